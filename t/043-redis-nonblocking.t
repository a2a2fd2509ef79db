# The worker never blocks on Redis: strace the worker while requests need
# tags, and check the Redis socket is made non-blocking before connect(),
# connect() returns at once (EINPROGRESS or connected), and reads never
# wait (data, or EAGAIN).  Skipped where strace cannot attach.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use Mkt::Test;

my $strace = `command -v strace 2>/dev/null`;
chomp $strace;
plan skip_all => 'strace not installed' unless $strace;

my $redis = start_redis();
$redis->cmd(ZADD => 'mkt:tags:u1', '+inf', 'vip');

my $ngx = start_nginx(http => <<'EOF');
    mkt_secret "nonblocking-secret-0123456789";
    mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        mkt_user_id $http_x_user_id;
        location / {
            add_header X-Tags $mkt_tags always;
            return 200 "ok\n";
        }
    }
EOF

my ($worker) = $ngx->worker_pids;
my $out = test_dir() . '/strace.txt';
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    exec $strace, '-qq', '-e', 'trace=socket,connect,ioctl,fcntl,recvfrom,'
        . 'read,poll,select,ppoll,pselect6', '-e', 'signal=none', '-o', $out,
        '-p', $worker;
    exit 127;
}
# strace writes its first line once attached
for (1 .. 50) { last if -s $out || !kill 0, $pid; sleep 0.1 }
sleep 0.3;
plan skip_all => 'strace cannot attach here' unless kill 0, $pid;

for my $i (1 .. 5) {
    my $res = request(GET => '/', headers => { 'X-User-Id' => 'u1' });
    is($res->{headers}{'x-tags'}, 'vip', "request $i got its tags");
}
sleep 0.3;
kill 'INT', $pid;
waitpid $pid, 0;

my $trace = read_file($out) // '';
my ($fd) = $trace =~ /^socket\(AF_INET, SOCK_STREAM[^)]*\) = (\d+)$/m;
ok(defined $fd, 'a socket was opened to Redis') or diag $trace;
$fd //= -1;
like($trace, qr/^ioctl\($fd, FIONBIO, \[1\]\)\s*= 0\n(?:.*\n)*?connect\($fd, /m,
     'made non-blocking before connect()');
like($trace, qr/^connect\($fd, .*= (?:0|-1 EINPROGRESS .*)$/m,
     'connect() returned at once');
my @reads = $trace =~ /^(?:recvfrom|read)\($fd, .*$/mg;
ok(@reads >= 5, scalar(@reads) . ' reads on the Redis socket');
my @bad = grep { !/=\s*\d+$/ && !/EAGAIN/ } @reads;
is(scalar @bad, 0, 'every read returned data or EAGAIN') or diag "@bad";
unlike($trace, qr/^(?:poll|select|ppoll|pselect6)\(/m,
       'no poll() or select() in the worker');

finish();

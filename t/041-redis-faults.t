# Redis failing in every way while requests come: killed, paused (SIGSTOP,
# as a hung server), restarted, refusing AUTH, answering garbage (a fake
# server), and many concurrent misses.  Pages are always served, quickly,
# with defaults; the circuit breaker skips Redis after repeated failures;
# tags come back when Redis does; the counters say what happened.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use Mkt::Test;
use Mkt::FakeRedis;

my $SECRET = 'faults-secret-0123456789abcdef';

# the harness's own connection stays authenticated as "default"
sub secure {
    my ($r) = @_;
    $r->cmd(ACL => 'SETUSER', 'edge', 'on', '>edge-pass', '~mkt:*', '+@all');
    $r->cmd(CONFIG => 'SET', 'requirepass', 'sesame');
    $r->cmd(SELECT => 3);
}

my $redis = start_redis();
secure($redis);
my $n = 0;

sub http_conf {
    my ($redis_line) = @_;
    return <<"EOF";
    mkt_secret "$SECRET";
    $redis_line
    mkt_tags_cache zone=tags:1m;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        mkt_user_id \$http_x_user_id;

        location / {
            add_header X-Tags \$mkt_tags always;
            return 200 "ok\\n";
        }

        location = /status {
            mkt_status;
        }
    }
EOF
}

sub status { decode_json(request(GET => '/status')->{body}) }

# a request of a user never seen: always a Redis read
sub fresh {
    my $uid = 'user-' . ++$n;
    my $t0 = time;
    my $res = request(GET => '/', headers => { 'X-User-Id' => $uid });
    return ($res, time - $t0, $uid);
}

# --- AUTH with user and password, and SELECT ---------------------------------

$redis->cmd(ZADD => 'mkt:tags:user-1', '+inf', 'in-db3');

my $ngx = start_nginx(http_conf(
    'mkt_redis 127.0.0.1:%%REDIS_PORT%% user=edge password=edge-pass db=3 '
    . 'timeout=150ms fails=3 backoff=1s;'));

my ($res, $took) = fresh();
is($res->{status}, 200, 'served with AUTH user/password');
is($res->{headers}{'x-tags'}, 'in-db3', 'tags read from db 3 after AUTH');

# --- many concurrent misses share few connections -----------------------------

my $before = $redis->cmd(INFO => 'stats');
my ($conns0) = $before =~ /total_connections_received:(\d+)/;
my @socks;
for my $i (1 .. 200) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ngx->port, Proto => 'tcp')
        or die "connect: $!";
    push @socks, $s;
}
for my $i (0 .. $#socks) {
    my $uid = 'burst-' . $i;
    print { $socks[$i] } "GET / HTTP/1.1\r\nHost: localhost\r\n"
        . "X-User-Id: $uid\r\nConnection: close\r\n\r\n";
}
my $ok200 = 0;
for my $s (@socks) {
    local $/;
    my $text = <$s> // '';
    $ok200++ if $text =~ m{^HTTP/1\.1 200 };
    close $s;
}
is($ok200, 200, '200 concurrent misses all served');
my $after = $redis->cmd(INFO => 'stats');
my ($conns1) = $after =~ /total_connections_received:(\d+)/;
my $opened = $conns1 - $conns0 - 1;    # minus this test's own INFO
cmp_ok($opened, '<=', 8, "pipelined on few connections ($opened opened)");

# --- a hung server: requests end at about the timeout -------------------------

$redis->pause;
my @slow;
for (1 .. 2) {
    ($res, $took) = fresh();
    is($res->{status}, 200, 'served while Redis hangs');
    push @slow, $took;
}
cmp_ok($slow[0], '>=', 0.12, sprintf('waited for the timeout (%.3fs)', $slow[0]));
cmp_ok($slow[0], '<', 0.6, sprintf('but not much longer (%.3fs)', $slow[0]));
($res, $took) = fresh();    # third failure in a row: the breaker opens
($res, $took) = fresh();
cmp_ok($took, '<', 0.1, sprintf('circuit open: no wait (%.3fs)', $took));
my $s = status();
cmp_ok($s->{redis_timeouts}, '>=', 3, 'timeouts counted');
cmp_ok($s->{redis_circuit_open}, '>=', 1, 'circuit opened');
cmp_ok($s->{redis_skipped}, '>=', 1, 'skipped requests counted');
$redis->resume;

# after the back-off, a probe finds Redis again and tags come back
sleep 1.2;
$redis->cmd(ZADD => 'mkt:tags:back-1', '+inf', 'back');
fresh();    # the probe, possibly on a connection given up meanwhile
sleep 0.3;
$res = request(GET => '/', headers => { 'X-User-Id' => 'back-1' });
is($res->{headers}{'x-tags'}, 'back', 'tags again after Redis resumed');

# --- killed, then restarted -------------------------------------------------------

$redis->kill;
for (1 .. 5) {
    ($res, $took) = fresh();
    is($res->{status}, 200, 'served while Redis is down');
    cmp_ok($took, '<', 0.5, sprintf('quickly (%.3fs)', $took));
}
$s = status();
cmp_ok($s->{redis_errors}, '>=', 1, 'connection errors counted');

$redis->start;
secure($redis);
$redis->cmd(ZADD => 'mkt:tags:restart-1', '+inf', 'restarted');
sleep 1.2;
fresh();
sleep 0.3;
$res = request(GET => '/', headers => { 'X-User-Id' => 'restart-1' });
is($res->{headers}{'x-tags'}, 'restarted', 'tags again after a restart');

# --- a wrong password: served, counted, logged once ---------------------------

$ngx->reload(http => http_conf(
    'mkt_redis 127.0.0.1:%%REDIS_PORT%% user=edge password=wrong '
    . 'timeout=150ms;'));
for (1 .. 3) {
    ($res, $took) = fresh();
    is($res->{status}, 200, 'served when AUTH is refused');
    is($res->{headers}{'x-tags'}, undef, 'no tags without AUTH');
}
my $refusals = () = $ngx->error_log =~ /AUTH or SELECT refused/g;
is($refusals, 1, 'the refusal logged once, not per request');

# --- a fake server answering garbage ---------------------------------------------

my $fake = Mkt::FakeRedis->garbage;
my $fake_port = $fake->port;

$ngx->reload(http => http_conf(
    "mkt_redis 127.0.0.1:$fake_port timeout=150ms fails=100;"));
for (1 .. scalar @Mkt::FakeRedis::GARBAGE) {
    ($res, $took) = fresh();
    is($res->{status}, 200, 'served when Redis answers garbage');
    is($res->{headers}{'x-tags'}, undef, 'no tags from garbage');
}
$fake->stop;
$s = status();
cmp_ok($s->{redis_errors} + $s->{redis_bad_replies}, '>=', 3,
       'garbage counted as errors or bad replies');

# --- scores no real Redis sends (a fake one): the tag skipped, counted -------

my $fake_scores = Mkt::FakeRedis->start(sub {
    return undef unless uc $_[0] eq 'ZRANGEBYSCORE';
    return "*8\r\n\$4\r\ngood\r\n\$3\r\ninf\r\n"
        . "\$3\r\nvip\r\n\$3\r\nabc\r\n"
        . "\$4\r\nint1\r\n:12\r\n"
        . "\$3\r\nneg\r\n\$2\r\n-5\r\n";
});
$ngx->reload(http => http_conf(
    'mkt_redis 127.0.0.1:' . $fake_scores->port . ' timeout=500ms;'));
$before = status();
($res) = fresh();
is($res->{headers}{'x-tags'}, 'good', 'a fake Redis: the tag with a score');
$s = status();
is($s->{bad_tags} - $before->{bad_tags}, 3,
   'bad_tags: scores "abc", an integer, "-5"');
is($s->{redis_bad_replies} - $before->{redis_bad_replies}, 0,
   'the reply itself is no bad reply');
$fake_scores->stop;

$ngx->allow_log(qr/mkt redis/);
finish();

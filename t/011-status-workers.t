# mkt_status sums counters across worker processes (shared memory).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;

my $ngx = start_nginx(workers => 2, http => <<'EOF2');
    mkt_secret "status-secret-0123456789";
    log_format pids '$pid $mkt_new';
    server {
        # reuseport: the kernel spreads new connections over both workers
        listen 127.0.0.1:%%PORT%% reuseport;
        access_log %%PREFIX%%/pids.log pids;

        location / {
            mkt on;
            return 204;
        }

        location = /mkt/status {
            access_log off;
            mkt_status;
        }
    }
EOF2

my $N = 60;
my $new = 1;                               # the first, and every even one
my $jar = new_jar();
is request('GET', '/', jar => $jar, keep_alive => 0)->{status}, 204,
    'first request';
for (2 .. $N) {
    my $j = $_ % 2 ? $jar : new_jar();     # odd: returning, even: new
    $new++ unless $_ % 2;
    request('GET', '/', jar => $j, keep_alive => 0);
}

ok wait_for(sub { my @l = split /\n/, read_file($ngx->prefix . '/pids.log')
    // ''; @l == $N }), "all $N requests logged";
my %pid;
$pid{ (split / /)[0] }++ for split /\n/, read_file($ngx->prefix . '/pids.log');
is scalar keys %pid, 2, 'both workers served requests: '
    . join(', ', map {"$_ x$pid{$_}"} sort keys %pid);

my $s = decode_json(request('GET', '/mkt/status', keep_alive => 0)->{body});
is $s->{requests}, $N, 'requests summed across workers';
is $s->{new_visitors}, $new, 'new_visitors summed across workers';
is $s->{returning_visitors}, $N - $new, 'returning_visitors summed';
is $s->{cookies_set}, $new, 'cookies_set summed';

# counters survive a reload (Prometheus counters must not reset)
$ngx->reload;
$s = decode_json(request('GET', '/mkt/status', keep_alive => 0)->{body});
is $s->{requests}, $N, 'counters survive a reload';

finish();

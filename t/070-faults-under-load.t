# Faults while load runs (issue #10): Redis out of memory, nginx reloaded,
# the event log reopened, a slowloris beacon, a spool that cannot be
# written. Load is a background wrk sending conversion beacons, each with
# a unique order; the access log of the collect location says which were
# acknowledged (204), the log sink and the stream must hold each of those
# exactly once.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use Mkt::Test;
use Mkt::Faults;

plan skip_all => 'wrk is not installed' unless -x $Mkt::Faults::WRK;

my $EXP = encode_json({ goals => ['purchase'], experiments => [] });
my $KEY = 'mkt:events';

# nginx: the log sink, optionally the Redis sink and its spool; the collect
# location logs "STATUS ORDER" to beacons.log
sub start {
    my (%o) = @_;
    my $redis = $o{redis};
    my $buffer = $o{buffer} // '0';
    my $sinks = ($o{log} // 1)
        ? "    mkt_events_log %%PREFIX%%/events.jsonl buffer=$buffer;\n" : '';
    if ($redis) {
        $sinks = "    mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=100ms "
            . "backoff=200ms;\n$sinks"
            . "    mkt_events_redis stream=$KEY batch=16 flush=50ms;\n"
            . "    mkt_events_spool %%PREFIX%%/spool;\n";
    }
    return start_nginx(
        ($redis ? (redis => $redis) : ()),
        workers => $o{workers} // 1,
        files => { 'exp.json' => $EXP },
        allow => $o{allow} // [qr/mkt redis|mkt events redis|mkt spool/],
        http  => <<"EOF");
    mkt_config %%PREFIX%%/exp.json;
$sinks
    log_format beacon '\$status \$arg_order';

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /mkt/collect {
            mkt_collect;
            client_body_timeout 1s;
            access_log %%PREFIX%%/beacons.log beacon;
        }

        location = /status {
            mkt_status;
        }
    }
EOF
}

# --- 1. Redis out of memory under load -------------------------------------

{
    my $redis = start_redis(
        args => [qw(--maxmemory 1mb --maxmemory-policy noeviction)]);
    my $ngx = start(redis => $redis);
    my $big = 'x' x 65536;
    my $i = 0;
    while ($i < 100) {
        last if is_redis_error($redis->cmd(SET => "big:$i", $big));
        $i++;
    }
    my $r = $redis->cmd(XADD => 'probe', '*', 'e', 'x');
    ok(is_redis_error($r) && "$r" =~ /^OOM/, 'redis is out of memory: XADD '
       . 'refused with OOM') or diag("XADD: $r");

    my $w = wrk_start($ngx, 'OOM', 1, 2);
    my $res = wrk_wait($w);
    is($res->{rc}, 0, 'OOM: wrk ran') or diag($res->{text});
    is($res->{non2xx}, 0, 'OOM: wrk saw no non-2xx response');
    is($res->{socket_errors}, 0, 'OOM: and no socket error')
        or diag($res->{socket_text});
    diag("OOM: $res->{requests} beacons, p99 $res->{p99}");

    my $st = status($ngx);
    ok($st->{events_redis_errors} > 0, 'OOM: events_redis_errors > 0')
        or diag(explain($st));
    ok($st->{events_spooled} > 0, 'OOM: events_spooled > 0');
    is($st->{events_dropped}, 0, 'OOM: events_dropped 0');
    is($st->{collect_unacknowledged}, 0, 'OOM: collect_unacknowledged 0');

    my ($ev, $bad) = events_of($ngx->prefix . '/events.jsonl');
    is($bad, 0, 'OOM: every log line is an event');
    my $acked = check_acked('OOM', $ngx, 'OOM', $ev);

    # memory freed: the spool is replayed. Tens of thousands of events do
    # not fit in 1 MB even without the big keys: the limit is lifted too
    $redis->cmd(DEL => map { "big:$_" } 0 .. $i);
    $redis->cmd(CONFIG => 'SET', 'maxmemory', '0');
    my $n = scalar @$ev;
    ok(wait_for(sub {
        my $s = status($ngx);
        return !spool_files($ngx) && $s->{events_redis_queue} == 0
            && ($redis->cmd(XLEN => $KEY) // 0) >= $n;
    }, 30), 'OOM: memory freed, the spool replayed');
    my $x = $redis->cmd(XRANGE => $KEY, '-', '+');
    my @in = map { decode_json($_->[1][1])->{id} } @{ ref $x ? $x : [] };
    my %seen;
    is_deeply([grep { $seen{$_}++ } @in], [], 'OOM: no event twice in the stream');
    is_deeply([sort @in], [sort map { $_->{id} } @$ev],
              'OOM: the stream holds exactly the logged events');
    my %in_orders = map { decode_json($_->[1][1])->{order} => 1 } @{ $x // [] };
    is_deeply([grep { !$in_orders{$_} } sort @$acked], [],
              'OOM: every acknowledged beacon is in the stream');
    $st = status($ngx);
    is($st->{events_replayed} + $st->{events_replay_duplicates},
       $st->{events_spooled},
       'OOM: events_replayed + events_replay_duplicates == events_spooled')
        or diag(explain($st));
    is($st->{events_redis_dropped}, 0, 'OOM: events_redis_dropped 0');
    $ngx->stop;
    $redis->stop;
}

# --- 2. reload and 3. reopen under load, two workers ---------------------

{
    my $ngx = start(workers => 2, buffer => '64k');

    my $w = wrk_start($ngx, 'RL', 2, 2);
    sleep 0.8;
    my @old = sort $ngx->worker_pids;
    $ngx->reload;
    my @new = sort $ngx->worker_pids;
    my $res = wrk_wait($w);
    ok(!grep({ my $o = $_; grep { $_ == $o } @new } @old),
       'reload: new workers replaced the old ones');
    is($res->{rc}, 0, 'reload: wrk ran') or diag($res->{text});
    is($res->{non2xx}, 0, 'reload: wrk saw no non-2xx response');
    # idle keep-alive connections closed by old workers at the reload may
    # reach wrk as read errors: only non-2xx responses count
    diag("reload: $res->{requests} beacons, socket errors: "
         . ($res->{socket_text} // 'none'));
    my ($ev, $bad) = events_of($ngx->prefix . '/events.jsonl');
    is($bad, 0, 'reload: every log line is an event');
    check_acked('reload', $ngx, 'RL', $ev);

    # reopen: the log renamed while load runs, then USR1
    my $log = $ngx->prefix . '/events.jsonl';
    $w = wrk_start($ngx, 'RO', 2, 2);
    sleep 0.8;
    rename $log, "$log.1" or die "rename: $!";
    sleep 0.3;
    $ngx->reopen;
    $res = wrk_wait($w);
    is($res->{non2xx}, 0, 'reopen: wrk saw no non-2xx response');
    is($res->{socket_errors}, 0, 'reopen: and no socket error')
        or diag($res->{socket_text});
    ok(-s $log, 'reopen: the new file has events');
    ok((read_file("$log.1") // '') =~ /"order":"RO-/,
       'reopen: so has the renamed one: the log was renamed under load');
    ($ev, $bad) = events_of("$log.1", $log);
    is($bad, 0, 'reopen: every line of both files is a whole JSON event');
    for my $f ("$log.1", $log) {
        my $t = read_file($f) // '';
        ok($t eq '' || $t =~ /\n\z/, "reopen: $f ends with a whole line");
    }
    check_acked('reopen', $ngx, 'RO', $ev);
    my $st = status($ngx);
    is($st->{events_log_errors}, 0, 'reopen: events_log_errors 0');
    is($st->{events_dropped}, 0, 'reopen: events_dropped 0');
    $ngx->stop;
}

# --- 4. slowloris on the beacon endpoint ---------------------------------

{
    my $ngx = start();
    my $body = '{"goal":"purchase","order":"SLOW-1","value":1.0}';
    $body .= ' ' x (100 - length $body);
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ngx->port, Proto => 'tcp')
        or die "connect: $!";
    my $t0 = time;
    print {$sock} "POST /mkt/collect HTTP/1.1\r\nHost: localhost\r\n"
        . "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        . substr($body, 0, 10);
    $sock->flush;

    # the only worker still serves others during the stall
    my $r = request(GET => '/mkt/collect?goal=purchase&order=SLOW-2',
                    keep_alive => 0);
    is($r->{status}, 204, 'slowloris: a beacon during the stall is answered');

    my $sel = IO::Select->new($sock);
    my $reply = '';
    while (time - $t0 < 5 && $sel->can_read(5 - (time - $t0))) {
        my $n = sysread $sock, my $buf, 4096;
        last unless $n;
        $reply .= $buf;
    }
    my $took = time - $t0;
    ok($took < 5, sprintf('slowloris: answered or closed within 5 s (%.2f s)',
                          $took));
    ok($reply eq '' || $reply =~ m{\AHTTP/1\.1 408 },
       'slowloris: closed, or answered 408')
        or diag($reply);
    diag('slowloris: ' . ($reply eq '' ? 'closed without a response'
                          : ($reply =~ /\A([^\r\n]*)/)[0]));
    close $sock;

    my ($ev) = events_of($ngx->prefix . '/events.jsonl');
    is_deeply([map { $_->{order} } @$ev], ['SLOW-2'],
              'slowloris: no event for the stalled beacon');
    my $st = status($ngx);
    is($st->{events_conversions}, 1, 'slowloris: events_conversions 1');
    $ngx->stop;
}

# --- 5. the spool cannot be written, Redis down ---------------------------

# tests run as root, which ignores permissions: the spool directory is
# replaced by a regular file, so that creating a spool file fails (ENOTDIR)
# whoever the worker is. 50 beacons with Redis killed: answered 204 (the
# log sink wrote them, or the Redis sink queued them: docs/events.md,
# Durability), the Redis sink's copies lost, counted and logged, no crash.
sub spool_broken {
    my ($what, $pfx, %o) = @_;
    my $redis = start_redis();
    my $ngx = start(%o, redis => $redis,
                    allow => [qr/mkt redis|mkt events redis|mkt spool|spool/]);
    my $spool = $ngx->prefix . '/spool';
    ok(-d $spool, "$what: the spool directory was created");
    rmdir $spool or die "rmdir $spool: $!";
    write_file($spool, "not a directory\n");
    my @workers = $ngx->worker_pids;
    $redis->kill;

    my %code;
    $code{ request(GET => "/mkt/collect?goal=purchase&order=$pfx-$_")
               ->{status} }++ for 1 .. 50;
    is_deeply(\%code, { 204 => 50 }, "$what: 50 beacons acknowledged");
    my $st;
    ok(wait_for(sub { $st = status($ngx); $st->{events_redis_dropped} == 50 },
                10), "$what: events_redis_dropped 50")
        or diag(explain($st));
    is($st->{events_spooled}, 0, "$what: events_spooled 0");
    is($st->{events_redis_written}, 0, "$what: events_redis_written 0");
    is_deeply([sort $ngx->worker_pids], [sort @workers],
              "$what: the worker did not crash");
    like($ngx->error_log,
         qr/\[alert\].*spool write to "[^"]*" failed: \d+ events lost/,
         "$what: the loss is logged (alert)");
    $ngx->stop;
    return $st;
}

my $st = spool_broken('spool, log sink too', 'SP');
is($st->{events_dropped}, 0, 'spool, log sink too: events_dropped 0');
is($st->{events_log_written}, 50, 'spool, log sink too: events_log_written 50');

# the Redis sink alone acknowledges an event once it is in its queue
$st = spool_broken('spool, redis sink alone', 'SR', log => 0);
is($st->{events_log_written}, 0, 'spool, redis sink alone: no log sink');

finish();

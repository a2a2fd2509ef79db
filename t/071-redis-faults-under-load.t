# Each Redis fault while load runs (issue #10): DEBUG SLEEP, SIGSTOP and
# SIGCONT, SIGKILL and a restart, a fake server answering garbage, AUTH
# refused. For 4 s per fault, wrk keeps 4 connections busy (1 ms apart,
# 1,200 to 2,700 requests a second here) with pages of new users (a tag
# lookup each, and an exposure event) and conversion beacons with unique
# orders; the fault starts after 1 s and lasts 2 s. Redis is the tag store
# (timeout=50ms) and the event stream, with a spool, beside the log sink.
# Per fault: no non-2xx answer and no socket error, the worker alive, p99
# and maximum latency bounded, errors logged rate-limited, every event
# once in the log and, once Redis is back and the spool replayed, exactly
# the same events in the stream, so every acknowledged beacon exactly
# once; the counters moved as they should. About 25 s.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);
use Mkt::Test;
use Mkt::Faults;
use Mkt::FakeRedis;

plan skip_all => 'wrk is not installed' unless -x $Mkt::Faults::WRK;

my $KEY = 'mkt:events';
my $SECS = 4;         # of load per fault; the fault starts after 1 s
my $FAULT = 2;        # seconds each fault lasts

my $EXP = encode_json({
    goals => ['purchase'],
    experiments => [
        { key => 'hero', variations => ['control', 'new-hero'],
          weights => [0.5, 0.5] },
    ],
});

# nginx's own user: the AUTH fault changes its password in Redis
my $acl = write_file(test_dir() . '/users.acl',
                     "user default on nopass ~* +\@all\n"
                     . "user edge on >edge-pass ~* +\@all\n");
# Redis 7 runs DEBUG only where enable-debug-command allows it
my ($major) = `$Mkt::Test::REDIS_BIN --version` =~ /v=(\d+)/;
my $redis = start_redis(args => [
    qw(--appendonly yes --appendfsync always), '--aclfile', $acl,
    (($major // 0) >= 7 ? qw(--enable-debug-command local) : ())]);

my $ngx = start_nginx(
    redis => $redis,
    files => { 'exp.json' => $EXP },
    http  => <<"EOF");
    mkt_secret "faults-under-load-0123456789";
    mkt_config %%PREFIX%%/exp.json;
    mkt_redis 127.0.0.1:%%REDIS_PORT%% user=edge password=edge-pass
              timeout=50ms connect_timeout=50ms backoff=500ms;
    mkt_tags_cache zone=tags:1m;
    mkt_events_log %%PREFIX%%/events.jsonl flush=100ms;
    mkt_events_redis stream=$KEY;
    mkt_events_spool %%PREFIX%%/spool;
    log_format beacon '\$status \$arg_order';

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        mkt_user_id \$http_x_user_id;

        location = /page {
            return 200 "tags=\$mkt_tags\\n";
        }

        location = /mkt/collect {
            mkt_collect;
            access_log %%PREFIX%%/beacons.log beacon;
        }

        location = /status {
            mkt off;
            mkt_status;
        }
    }
EOF

my @workers = $ngx->worker_pids;

# the event log's lines from byte $off: { id => [order or uid] }, and the
# number of lines that are not an event (a regex, not JSON::PP: tens of
# thousands of lines)
sub log_events {
    my ($off) = @_;
    my $text = read_file($ngx->prefix . '/events.jsonl') // '';
    my (%ev, $bad);
    $bad = 0;
    for (split /\n/, substr($text, $off)) {
        if (/^\{"id":"([0-9A-Z]{26})",.*\}$/) {
            push @{ $ev{$1} }, /"(?:order|uid)":"([^"]*)"/ ? $1 : '';
        } else {
            $bad++;
        }
    }
    return (\%ev, $bad);
}

# the stream's entries after $after: { id => [order or uid] }
sub stream_events {
    my ($after) = @_;
    my %ev;
    my $from = "($after";
    while (1) {
        my $r = $redis->cmd(XRANGE => $KEY, $from, '+', 'COUNT', 5000);
        last unless ref $r && @$r;
        for (@$r) {
            my $e = $_->[1][1] // '';
            my ($id) = $e =~ /^\{"id":"([0-9A-Z]{26})"/ or next;
            push @{ $ev{$id} }, $e =~ /"(?:order|uid)":"([^"]*)"/ ? $1 : '';
        }
        $from = "($r->[-1][0]";
    }
    return \%ev;
}

sub last_id {
    my $r = $redis->cmd(XREVRANGE => $KEY, '+', '-', 'COUNT', 1);
    return ref $r && @$r ? $r->[0][0] : '0-0';
}

# The latency bounds. wrk's p99 covers pages and beacons; a page waits
# for Redis at most the 50 ms timeout, so p99 stays near it, while a
# request that waited for anything longer (the events sink's 1 s reply
# timeout, a connect and a reply timeout in a row, a lost wake-up) would
# put p99 near a second. A worker blocked by the fault itself (a
# synchronous read of a stopped or sleeping Redis) would hold only the 4
# requests in flight, for the whole 2 s fault: p99 cannot show that, the
# maximum can. Measured on the 2-CPU reference machine, shared with other
# builds: 16 runs, alone, beside t/070's load and in make test, load
# average 1 to 8.5. p99 in ms: DEBUG SLEEP 33-42, SIGSTOP 35-50, SIGKILL
# 3-152, garbage 9-56, AUTH refused 2-45; the maximum 5 to 204 ms in all.
# So 500 ms for p99 (3 times the worst seen) and 1 s for the maximum (5
# times; a blocked worker would show 2 s).
my $P99_MS = 50 + 450;
my $MAX_MS = 1000;

# the status once every event is where it goes: written to the log, and
# added to the stream (no queue, nothing spooled); undef after 30 s
sub settled {
    my $st;
    wait_for(sub {
        $st = status($ngx);
        return !spool_files($ngx) && $st->{events_spool_oldest_age_ms} == 0
            && $st->{events_redis_queue} == 0
            && $st->{events_log_written} == $st->{events};
    }, 30) or return undef;
    return $st;
}

sub under_load {
    my ($what, $pfx, $fault, @failures) = @_;
    my $s0 = settled() // status($ngx);
    my $after = last_id();
    my $off = -s $ngx->prefix . '/events.jsonl' // 0;
    my $log_off = length $ngx->error_log;

    my $w = wrk_start($ngx, $pfx, $SECS, 4, pages_and_beacons($pfx, 1));
    sleep 1;
    $fault->();
    my $res = wrk_wait($w);

    is($res->{rc}, 0, "$what: wrk ran") or diag($res->{text});
    is($res->{non2xx}, 0, "$what: no non-2xx response");
    is($res->{socket_errors}, 0, "$what: no socket error")
        or diag($res->{socket_text});
    cmp_ok($res->{p99_ms}, '<', $P99_MS, "$what: p99 $res->{p99} under "
           . "${P99_MS}ms");
    cmp_ok($res->{max_ms}, '<', $MAX_MS, "$what: max $res->{max} under "
           . "${MAX_MS}ms");

    my $s1 = settled();
    ok($s1, "$what: Redis back, the spool replayed")
        or diag(explain($s1 = status($ngx)));

    is_deeply([sort $ngx->worker_pids], [sort @workers],
              "$what: the worker did not crash");
    my @lines = grep { /\[(?:warn|error|alert|crit)\]/ }
        split /\n/, substr($ngx->error_log, $log_off);
    cmp_ok(scalar @lines, '<=', 50, "$what: logged rate-limited ("
           . scalar(@lines) . ' lines for ' . $res->{requests}
           . ' requests)');

    my ($log, $bad) = log_events($off);
    is($bad, 0, "$what: every log line is an event");
    my $stream = stream_events($after);
    my $mine = qr/^\Q$pfx\E-/;
    my @log_ids = sort grep { $log->{$_}[0] =~ $mine } keys %$log;
    my @in_ids = sort grep { $stream->{$_}[0] =~ $mine } keys %$stream;
    is_deeply([grep { @{ $stream->{$_} } > 1 } @in_ids], [],
              "$what: no event twice in the stream");
    is_deeply(\@in_ids, \@log_ids, "$what: the stream holds exactly the "
              . 'logged events (' . scalar(@log_ids) . ')');
    my $acked = check_acked($what, $ngx, $pfx,
                            [map { { order => $log->{$_}[0] } } @log_ids]);
    my %in_orders;
    $in_orders{ $stream->{$_}[0] }++ for @in_ids;
    is_deeply([grep { ($in_orders{$_} // 0) != 1 } sort @$acked], [],
              "$what: every acknowledged beacon in the stream exactly once");

    my %d = map { $_ => $s1->{$_} - $s0->{$_} }
        grep { ($s1->{$_} // '') =~ /^\d+$/ } keys %$s1;
    cmp_ok($d{events_redis_errors}, '>', 0, "$what: failed XADDs counted");
    cmp_ok($d{events_spooled}, '>', 0, "$what: events spooled "
           . "($d{events_spooled})");
    is($d{events_redis_written} + $d{events_spooled}, $d{events},
       "$what: every event added to the stream or spooled, once");
    is($d{events_replayed} + $d{events_replay_duplicates},
       $d{events_spooled}, "$what: spooled = replayed + duplicates");
    is($d{events_redis_dropped}, 0, "$what: events_redis_dropped 0");
    is($d{events_dropped}, 0, "$what: events_dropped 0");
    is($d{collect_unacknowledged}, 0, "$what: collect_unacknowledged 0");
    is($d{tags_cache_misses}, scalar(@log_ids) - scalar(@$acked),
       "$what: a tag lookup for each page");

    # fails=5 (the default): five failures in a row open the breaker; a
    # 2 s fault with backoff=500ms opens it again at least once, when the
    # probe after the back-off fails too
    my $failed = 0;
    $failed += $d{$_} for @failures;
    cmp_ok($failed, '>=', 5, "$what: at least 5 failures counted ("
           . join(' + ', map { "$_ $d{$_}" } @failures) . ')');
    cmp_ok($d{redis_circuit_open}, '>=', 2, "$what: the circuit breaker "
           . "opened, and again after a failed probe "
           . "($d{redis_circuit_open})");
    cmp_ok($d{redis_skipped}, '>', 0, "$what: requests skipped Redis "
           . "meanwhile ($d{redis_skipped})");

    # tags again: the breaker closed, or closes at its next probe
    $redis->cmd(ZADD => "mkt:tags:$pfx-back", '+inf', 'back');
    ok(wait_for(sub {
        request(GET => '/page', headers => { 'X-User-Id' => "$pfx-back" })
            ->{body} eq "tags=back\n";
    }, 5), "$what: tags read again");

    diag(sprintf '%s: %d requests, p99 %s, max %s; %s', $what,
         $res->{requests}, $res->{p99}, $res->{max},
         join ' ', map { "$_=$d{$_}" } grep { /^(?:redis|events_(?:sp|re))/
         && !/queue|age/ && $d{$_} } sort keys %d);
}

# --- the faults ------------------------------------------------------------

# what, order prefix, the fault (it returns once the fault is over), the
# counters of the failures it makes
my @FAULTS = (
    ['DEBUG SLEEP', 'DS', sub {
        $redis->timeout($FAULT + 5);
        is($redis->cmd(DEBUG => 'SLEEP', $FAULT), 'OK', 'DEBUG SLEEP ran');
    }, 'redis_timeouts'],
    ['SIGSTOP', 'ST', sub {
        $redis->pause;
        sleep $FAULT;
        $redis->resume;
    }, 'redis_timeouts'],
    # restarted on the same port: its AOF (appendfsync always) keeps the
    # stream
    ['SIGKILL', 'KL', sub {
        $redis->kill;
        sleep $FAULT;
        $redis->start;
    }, 'redis_errors'],
    # killed, a fake server answering garbage on its port, then Redis again
    ['garbage', 'GB', sub {
        $redis->kill;
        my $fake = Mkt::FakeRedis->garbage(port => $redis->port);
        sleep $FAULT;
        $fake->stop;
        $redis->start;
    }, 'redis_errors', 'redis_bad_replies'],
    # a password for the default user, as requirepass sets, so that a
    # connection whose AUTH fails gets no command run as "default";
    # nginx's connections closed, and its password no longer the right one
    ['AUTH refused', 'AU', sub {
        $redis->cmd(CONFIG => 'SET', 'requirepass', 'not-nginx-password');
        $redis->cmd(ACL => 'SETUSER', 'edge', 'resetpass',
                    '>not-nginx-password');
        $redis->cmd(CLIENT => 'KILL', 'USER', 'edge');
        sleep $FAULT;
        $redis->cmd(ACL => 'SETUSER', 'edge', 'resetpass', '>edge-pass');
        $redis->cmd(CONFIG => 'SET', 'requirepass', '');
    }, 'redis_errors'],
);

under_load(@$_) for @FAULTS;

finish();

# The event log's disk full while load runs (issue #10): mkt_events_log on
# a 256 KiB tmpfs, filled up, with pages (exposures) and beacons sent by
# wrk. Alone, the log sink cannot store a conversion: the beacon is
# answered 503 and counted (docs/events.md, Durability); with the Redis
# sink beside it, every beacon is acknowledged and in the stream. Either
# way: no crash, no other 5xx, the lost lines counted and logged at most
# once a second, and once space is freed the new events are whole lines.
# Needs root (or CAP_SYS_ADMIN) to mount; else skipped, and
# docs/testing.md describes the check by hand.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;
use Mkt::Faults;

plan skip_all => 'wrk is not installed' unless -x $Mkt::Faults::WRK;

my $MNT = test_dir() . '/full';
mkdir $MNT or die "mkdir $MNT: $!";
my ($rc, undef, $err) = eval {
    run_cmd(['mount', '-t', 'tmpfs', '-o', 'size=256k,mode=0755', 'tmpfs',
             $MNT]);
};
($rc, $err) = (-1, $@) unless defined $rc;
if ($rc) {
    $err =~ s/\s+\z//;
    plan skip_all => "cannot mount a tmpfs to fill (mount exited $rc: "
        . "$err); see docs/testing.md for the check by hand";
}
my $MOUNTED = 1;

# before the harness's END removes the test dir: lazily, since nginx may
# still hold the log open when a test dies
END {
    if ($MOUNTED) {
        system('cp', '-a', $MNT, "$MNT.kept") if $ENV{MKT_KEEP};
        system('umount', '-l', $MNT);
    }
}

my $KEY = 'mkt:events';
my $LOG = "$MNT/events.jsonl";
my $EXP = encode_json({
    goals => ['purchase'],
    experiments => [
        { key => 'hero', variations => ['control', 'new-hero'],
          weights => [0.5, 0.5] },
    ],
});

sub start {
    my ($redis) = @_;
    my $sinks = '';
    if ($redis) {
        $sinks = "mkt_redis 127.0.0.1:%%REDIS_PORT%%;\n"
            . "    mkt_events_redis stream=$KEY;\n"
            . "    mkt_events_spool %%PREFIX%%/spool;";
    }
    return start_nginx(
        ($redis ? (redis => $redis) : ()),
        files => { 'exp.json' => $EXP },
        allow => [qr/write\(\) to "\Q$LOG\E" (?:failed|was incomplete)/],
        http  => <<"EOF");
    mkt_secret "disk-full-0123456789abcdef";
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log $LOG;
    $sinks
    log_format load '\$status \$arg_order \$uri';

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        mkt_user_id \$http_x_user_id;
        access_log %%PREFIX%%/beacons.log load;

        location = /page {
            return 200 "ok\\n";
        }

        location = /mkt/collect {
            mkt_collect;
        }

        location = /status {
            mkt off;
            access_log off;
            mkt_status;
        }
    }
EOF
}

# fills the file system: one file growing until the write fails
sub fill {
    open my $fh, '>:raw', "$MNT/filler" or die "filler: $!";
    my $block = 'x' x 4096;
    1 while syswrite $fh, $block;
    close $fh;
}

# statuses of the access log's lines of one URI: { status => count }
sub statuses {
    my ($ngx, $uri) = @_;
    my %n;
    for (split /\n/, read_file($ngx->prefix . '/beacons.log') // '') {
        my ($s, undef, $u) = split / /;
        $n{$s}++ if $u eq $uri;
    }
    return \%n;
}

sub full_disk {
    my ($what, $pfx, $redis) = @_;
    unlink glob "$MNT/*";
    my $ngx = start($redis);
    my @workers = $ngx->worker_pids;
    is($ngx->get("/mkt/collect?goal=purchase&order=$pfx-first")->{status},
       204, "$what: a beacon before the disk is full");

    fill();
    my $w = wrk_start($ngx, $pfx, 2, 2, pages_and_beacons($pfx));
    my $res = wrk_wait($w);
    my $st = status($ngx);
    # alert lines about the log: [second, pid] of each
    my @logged = map { [/^(\S+ \S+) \[alert\] (\d+)#/] }
        grep { /\[alert\].*\Q$LOG\E/ } split /\n/, $ngx->error_log;
    my %per_second;
    $per_second{"@$_"}++ for @logged;

    is($res->{rc}, 0, "$what: wrk ran") or diag($res->{text});
    is($res->{socket_errors}, 0, "$what: no socket error")
        or diag($res->{socket_text});
    is_deeply([keys %{ statuses($ngx, '/page') }], [200],
              "$what: every page answered 200");
    is_deeply([sort $ngx->worker_pids], [sort @workers],
              "$what: the worker did not crash");
    cmp_ok($st->{events_log_errors}, '>', 0,
           "$what: lines lost counted ($st->{events_log_errors})");
    cmp_ok(scalar @logged, '>=', 1, "$what: the failed writes are logged");
    is_deeply([grep { $per_second{$_} > 1 } sort keys %per_second], [],
              "$what: at most once a second (" . scalar(@logged)
              . ' lines)');

    unlink "$MNT/filler" or die "unlink filler: $!";
    my %code;
    for my $i (1 .. 20) {
        $code{ request(GET => '/page',
                       headers => { 'X-User-Id' => "$pfx-u-after-$i" })
                   ->{status} }++;
        $code{ request(GET => "/mkt/collect?goal=purchase&order=$pfx-after-$i")
                   ->{status} }++;
    }
    is_deeply(\%code, { 200 => 20, 204 => 20 },
              "$what: space freed, 20 pages and 20 beacons answered");
    ok(wait_for(sub { $st = status($ngx);
                      $st->{events_log_written} + $st->{events_log_errors}
                      == $st->{events} + $st->{events_dropped} }, 5),
       "$what: every line handed to the log written or counted lost");

    # on a full tmpfs even the "\n" that would end a cut line fails: the
    # cut bytes are taken back
    my ($ev, $bad) = events_of($LOG);
    is($bad, 0, "$what: every line of the log is a whole event");
    my %after;
    $after{ $_->{order} // $_->{uid} }++ for @$ev;
    is_deeply([grep { ($after{$_} // 0) != 1 }
               map { ("$pfx-after-$_", "$pfx-u-after-$_") } 1 .. 20], [],
              "$what: space freed, the next 40 events whole, once each");
    return ($ngx, $res, $st, $ev);
}

# every beacon acknowledged (204) exactly once in the events, and none that
# was refused (503: the client may send it again)
sub check_beacons {
    my ($what, $ngx, $pfx, $events, $where) = @_;
    my $b = beacons($ngx, $pfx);
    my @acked = ("$pfx-first", map { "$pfx-after-$_" } 1 .. 20);
    my @refused;
    for my $o (keys %$b) {
        push @acked, $o if grep { $_ == 204 } @{ $b->{$o} };
        push @refused, $o if grep { $_ == 503 } @{ $b->{$o} };
    }
    my %n;
    $n{ $_->{order} }++ for grep { defined $_->{order} } @$events;
    is_deeply([grep { ($n{$_} // 0) != 1 } sort @acked], [],
              "$what: every acknowledged beacon in $where exactly once ("
              . scalar(@acked) . ')');
    is_deeply([grep { $n{$_} } sort @refused], [],
              "$what: no refused beacon in $where");
    return (\@acked, \@refused);
}

# --- the log sink alone: a beacon it cannot store is answered 503 ---------

{
    my ($ngx, $res, $st, $ev) = full_disk('log alone', 'LA');
    my $b = statuses($ngx, '/mkt/collect');
    cmp_ok($b->{503} // 0, '>', 0,
           'log alone: beacons not stored answered 503 (' . ($b->{503} // 0)
           . ')');
    is_deeply([sort grep { $_ != 204 && $_ != 503 } keys %$b], [],
              'log alone: beacons answered 204 or 503, nothing else');
    is($st->{collect_unacknowledged}, $b->{503},
       'log alone: collect_unacknowledged = the 503s');
    is($st->{events_dropped}, $b->{503},
       'log alone: events_dropped = the 503s (exposures are buffered)');
    check_beacons('log alone', $ngx, 'LA', $ev, 'the log');
    $ngx->stop;
}

# --- with the Redis sink: every beacon acknowledged, and in the stream ----

{
    my $redis = start_redis();
    my ($ngx, $res, $st, $ev) = full_disk('log and redis', 'LR', $redis);
    is_deeply(statuses($ngx, '/mkt/collect'),
              { 204 => $st->{collect_requests} },
              'log and redis: every beacon answered 204');
    is($st->{collect_unacknowledged}, 0,
       'log and redis: collect_unacknowledged 0');
    is($st->{events_dropped}, 0, 'log and redis: events_dropped 0');
    ok(wait_for(sub { status($ngx)->{events_redis_queue} == 0 }, 10),
       'log and redis: the Redis sink emptied its queue');
    $st = status($ngx);
    is($st->{events_redis_written}, $st->{events},
       'log and redis: every event in the stream (events_redis_written)');
    is($st->{events_spooled}, 0, 'log and redis: none spooled');
    my $x = $redis->cmd(XRANGE => $KEY, '-', '+');
    my @in = map { decode_json($_->[1][1]) } @{ ref $x ? $x : [] };
    is(scalar @in, $st->{events}, 'log and redis: XRANGE has them all');
    check_beacons('log and redis', $ngx, 'LR', \@in, 'the stream');
    $ngx->stop;
    $redis->stop;
}

finish();

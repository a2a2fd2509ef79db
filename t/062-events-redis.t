# The Redis stream sink (mkt_events_redis) and its spool (mkt_events_spool),
# against a real redis-server: the stream holds what the log sink holds;
# maxlen; events Redis refuses or misses (error replies, redis-server
# killed under load, nginx restarted during the outage) are spooled and
# replayed so that every event ends up in the stream exactly once.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes ();
use Mkt::Test;
# status(), and spool_files(): a list, or their number in scalar context
use Mkt::Faults qw(status spool_files);

my $EXP = encode_json({
    goals => ['purchase'],
    experiments => [
        { key => 'hero', variations => ['control', 'new-hero'],
          weights => [0.5, 0.5] },
    ],
});

my $KEY = 'mkt:events';

# nginx with the log sink as the reference, the Redis sink and its spool
sub start {
    my ($redis, %o) = @_;
    my $params = $o{params} // 'batch=16 flush=50ms';
    my $spool = $o{spool} // 1;
    return start_nginx(
        redis => $redis,
        workers => $o{workers} // 1,
        files => { 'exp.json' => $EXP },
        allow => [qr/mkt redis|mkt events redis|mkt spool/],
        http  => <<"EOF");
    mkt_config %%PREFIX%%/exp.json;
    mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=100ms backoff=200ms;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;
    mkt_events_redis stream=$KEY $params;
    @{[ $spool ? 'mkt_events_spool %%PREFIX%%/spool;' : '' ]}

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;

        location / {
            return 204;
        }

        location = /mkt/collect {
            mkt off;
            mkt_collect;
        }

        location = /status {
            mkt off;
            mkt_status;
        }
    }
EOF
}

# the log sink's lines: [id, line]
sub log_events {
    my ($ngx) = @_;
    my $text = read_file($ngx->prefix . '/events.jsonl') // '';
    return map { [decode_json($_)->{id}, $_] } split /\n/, $text;
}

# the stream's events: [stream id, id, line]
sub stream_events {
    my ($redis) = @_;
    my $r = $redis->cmd(XRANGE => $KEY, '-', '+');
    return () unless ref $r eq 'ARRAY';
    return map { [$_->[0], decode_json($_->[1][1])->{id}, $_->[1][1]] } @$r;
}

# n new visitors, each exposed to hero: one event each
sub visits {
    my ($ngx, $n, $gap) = @_;
    my $bad = 0;
    for (1 .. $n) {
        my $res = $ngx->get('/lp', jar => new_jar());
        $bad++ unless $res->{status} == 204;
        Time::HiRes::sleep($gap) if $gap;
    }
    return $bad;
}

# --- configuration errors --------------------------------------------------

nginx_test_fails('batch=0', <<'EOF', qr/invalid parameter "batch=0"/);
    mkt_redis 127.0.0.1:6379;
    mkt_events_redis stream=s batch=0;
EOF
nginx_test_fails('no stream=', <<'EOF', qr/"stream=" is required/);
    mkt_redis 127.0.0.1:6379;
    mkt_events_redis maxlen=10;
EOF
nginx_test_fails('small queue', <<'EOF', qr/invalid queue size "1k"/);
    mkt_redis 127.0.0.1:6379;
    mkt_events_redis stream=s queue=1k;
EOF
for my $case (
    ['without mkt_redis', 'mkt_events_redis stream=s;',
     qr/"mkt_events_redis" requires "mkt_redis"/],
    ['a spool without the sink', "mkt_redis 127.0.0.1:6379;\n"
     . "    mkt_events_spool /tmp;",
     qr/"mkt_events_spool" requires "mkt_events_redis"/])
{
    my ($rc, $out) = nginx_test_config(http => "    $case->[1]\n");
    isnt($rc, 0, "$case->[0]: nginx -t fails");
    like($out, $case->[2], "$case->[0]: message");
}

# --- the stream holds what the log holds ----------------------------------

my $redis = start_redis();
my $ngx = start($redis);

is(visits($ngx, 40), 0, '40 new visitors served');
ok(wait_for(sub { ($redis->cmd(XLEN => $KEY) // 0) == 40 }, 10),
   'all 40 events in the stream');

my @log = log_events($ngx);
my @stream = stream_events($redis);
is(scalar @log, 40, '40 events in the log');
is_deeply([map { $_->[1] } @stream], [map { $_->[0] } @log],
          'the same ids in the same order');
is_deeply([map { $_->[2] } @stream], [map { $_->[1] } @log],
          'field e: the same JSON, byte for byte');
is_deeply([map { scalar @{ $_ } } @{ $redis->cmd(XRANGE => $KEY, '-', '+',
                                                 'COUNT', 1) }],
          [2], 'an entry is [id, [e, EVENT]]');
is_deeply($redis->cmd(XRANGE => $KEY, '-', '+', 'COUNT', 1)->[0][1][0], 'e',
          'the one field is e');

my $st = status($ngx);
my $before;
is($st->{events_redis_written}, 40, 'events_redis_written');
is($st->{events_redis_errors}, 0, 'no errors');
is($st->{events_spooled}, 0, 'nothing spooled');
is($st->{events_redis_dropped}, 0, 'nothing dropped');
is($st->{events_redis_queue}, 0, 'queue gauge: empty');
is($st->{events_spool_oldest_age_ms}, 0, 'no spooled event');
is_deeply([spool_files($ngx)], [], 'no spool file');

my $prom = $ngx->get('/status?format=prometheus')->{body};
like($prom, qr/^# TYPE mkt_events_redis_queue gauge\nmkt_events_redis_queue 0$/m,
     'prometheus: the queue gauge');
like($prom, qr/^mkt_events_spool_oldest_age_seconds 0\.000$/m,
     'prometheus: the spool age gauge');
like($prom, qr/^mkt_events_redis_written_total 40$/m,
     'prometheus: events_redis_written');

# --- a key of the wrong type: XADD refused, spooled, replayed -------------

$redis->cmd(SET => $KEY . ':tmp', 'x');
$redis->cmd(RENAME => $KEY, "$KEY:saved");
$redis->cmd(SET => $KEY, 'not a stream');

# 120 ms apart, past the 50 ms flush: the first fails alone, the others
# arrive while the spool is in use; all ten are errors all the same
is(visits($ngx, 10, 0.12), 0, '10 more visitors while XADD fails');
ok(wait_for(sub { status($ngx)->{events_spooled} == 10 }, 10),
   'the 10 refused events spooled');
$st = status($ngx);
is($st->{events_redis_errors}, 10, 'events_redis_errors: 10');
is($st->{events_redis_written}, 40, 'nothing more written');
is(scalar(() = spool_files($ngx)), 1, 'one spool file');
ok($st->{events_spool_oldest_age_ms} > 0, 'the oldest spooled event has an age');

$redis->cmd(DEL => $KEY);
$redis->cmd(RENAME => "$KEY:saved", $KEY);
ok(wait_for(sub { status($ngx)->{events_replayed} == 10 }, 10),
   'replayed once the key is a stream again');
ok(wait_for(sub { !spool_files($ngx) }, 5), 'the spool file is removed');

@log = log_events($ngx);
@stream = stream_events($redis);
is(scalar @stream, 50, '50 entries');
is_deeply([sort map { $_->[1] } @stream], [sort map { $_->[0] } @log],
          'every logged event exactly once');
is_deeply([map { $_->[2] } @stream[40 .. 49]], [map { $_->[1] } @log[40 .. 49]],
          'replayed in order, the same JSON');
$st = status($ngx);
is($st->{events_replay_duplicates}, 0, 'no duplicates to skip');
is($st->{events_spool_oldest_age_ms}, 0, 'spool empty: age 0');

is(visits($ngx, 5), 0, 'and afterwards');
ok(wait_for(sub { $redis->cmd(XLEN => $KEY) == 55 }, 10),
   'straight to the stream again');
is(status($ngx)->{events_spooled}, 10, 'not spooled');

$ngx->stop;

# --- maxlen ----------------------------------------------------------------

# one entry per stream node: "MAXLEN ~" trims to exactly maxlen
my $small = start_redis(args => [qw(--stream-node-max-entries 1)]);
my $ngx_small = start($small, params => 'maxlen=10 batch=4 flush=20ms',
                      spool => 0);
is(visits($ngx_small, 30), 0, '30 events with maxlen=10');
ok(wait_for(sub { status($ngx_small)->{events_redis_written} == 30 }, 10),
   'all 30 added');
is($small->cmd(XLEN => $KEY), 10, 'the stream is trimmed to 10');
is_deeply([map { $_->[2] } stream_events($small)],
          [map { $_->[1] } (log_events($ngx_small))[20 .. 29]],
          'the last 10 events are kept');

# without a spool, what Redis refuses is lost: counted and logged
$small->cmd(DEL => $KEY);
$small->cmd(SET => $KEY, 'not a stream');
is(visits($ngx_small, 5), 0, '5 events while XADD fails, no spool');
ok(wait_for(sub { status($ngx_small)->{events_redis_dropped} == 5 }, 10),
   'events_redis_dropped: 5');
$st = status($ngx_small);
is($st->{events_redis_errors}, 5, 'events_redis_errors: 5');
is($st->{events_spooled}, 0, 'nothing spooled');
is($st->{events_dropped}, 0, 'the log sink still has them');
is(scalar(() = log_events($ngx_small)), 35, 'all 35 in the log');
like($ngx_small->error_log,
     qr/\[error\].*mkt events redis: XADD to "mkt:events" refused: WRONGTYPE/,
     'the refusal is logged');
$ngx_small->stop;

# --- redis-server killed under load, restarted with what it acknowledged ---

my $aof = start_redis(args => [qw(--appendonly yes --appendfsync always)]);
$ngx = start($aof, params => 'batch=64 flush=100ms');

# 5,000 beacons, each a conversion acknowledged with 204
my $N = 5000;
my $bad = 0;
for my $i (1 .. $N) {
    $bad++ unless $ngx->get("/mkt/collect?goal=purchase&value=$i&order=K-$i")
                      ->{status} == 204;
    $aof->kill if $i == 1500;
    $aof->start if $i == 3500;
}
is($bad, 0, "$N beacons acknowledged through the outage");

sub settled {
    my ($ngx, $redis, $n) = @_;
    return wait_for(sub {
        my $st = status($ngx);
        return !spool_files($ngx) && $st->{events_redis_queue} == 0
            && ($redis->cmd(XLEN => $KEY) // 0) >= $n;
    }, 30);
}

ok(settled($ngx, $aof, $N), 'the spool replayed, the queue empty');

# what nginx instances stopped for good logged, for exactly_once()
my @earlier;

sub exactly_once {
    my ($ngx, $redis, $n, $what) = @_;
    my @ids = (@earlier, map { $_->[0] } log_events($ngx));
    my @in = map { $_->[1] } stream_events($redis);
    my %seen;
    my @dup = grep { $seen{$_}++ } @in;
    is(scalar @ids, $n, "$what: $n events logged");
    is(scalar @in, $n, "$what: $n entries in the stream");
    is_deeply(\@dup, [], "$what: no event twice");
    is_deeply([sort @in], [sort @ids], "$what: every logged event");
}

exactly_once($ngx, $aof, $N, 'killed under load');
my %orders = map { decode_json($_->[2])->{order} => 1 } stream_events($aof);
is_deeply([sort keys %orders], [sort map { "K-$_" } 1 .. $N],
          'every acknowledged conversion is in the stream, by its order');

$st = status($ngx);
ok($st->{events_spooled} > 0, 'events were spooled during the outage')
    or diag(explain($st));
ok($st->{events_redis_errors} > 0, 'XADDs failed');
is($st->{events_redis_written} + $st->{events_spooled}, $N,
   'every event was written, or spooled (failed, or while spooling)');
is($st->{events_replayed} + $st->{events_replay_duplicates},
   $st->{events_spooled}, 'every spooled event replayed or found');
is($st->{events_redis_dropped}, 0, 'none dropped');
is($st->{events_dropped}, 0, 'none lost by the pipeline');

# --- nginx restarted during an outage: replayed at the next start ---------

$aof->kill;
is(visits($ngx, 200), 0, '200 events while redis is down');
$ngx->stop;
my @left = spool_files($ngx);
is(scalar @left, 1, 'one spool file left at exit');

$ngx->restart;
is(visits($ngx, 100), 0, '100 more after the restart, still down');
ok(status($ngx)->{events_spool_oldest_age_ms} > 0,
   'the claimed file\'s oldest event has an age while redis is down');
$aof->start;
ok(settled($ngx, $aof, $N + 300), 'replayed after the restart');
exactly_once($ngx, $aof, $N + 300, 'nginx restarted');
is(status($ngx)->{events_spool_oldest_age_ms}, 0, 'nothing spooled: age 0');

$st = status($ngx);
is($st->{events_spool_files_claimed}, 1, 'the old spool file was claimed');
is($st->{events_redis_written} + $st->{events_spooled}, 100,
   'the 100 new events written or spooled')
    or diag(explain($st));
is($st->{events_replayed} + $st->{events_replay_duplicates},
   200 + $st->{events_spooled}, 'the 200 of the old file replayed too');
is($st->{events_redis_dropped}, 0, 'none dropped');
like($ngx->error_log, qr/mkt spool: claimed "[^"]*\Q$left[0]\E"/,
     'the claim is logged');

# --- reloaded during an outage, two workers: the new ones replay ---------

$ngx->stop;
push @earlier, map { $_->[0] } log_events($ngx);
$ngx = start($aof, workers => 2);
$before = { events => $aof->cmd(XLEN => $KEY) };
$aof->kill;
is(visits($ngx, 60), 0, '60 events while redis is down, two workers');
$ngx->reload;
is(visits($ngx, 40), 0, '40 more after a reload');
$aof->start;
ok(settled($ngx, $aof, $before->{events} + 100), 'replayed after the reload');
exactly_once($ngx, $aof, $N + 400, 'reloaded');
$st = status($ngx);
ok($st->{events_spool_files_claimed} >= 1,
   'the old workers\' files were claimed');
is($st->{events_redis_dropped}, 0, 'none dropped');

# --- redis-server paused: replies lost, XADDs run after all -------------

# nginx gives the connection up (10 x timeout) while redis-server holds
# the batch unread; resumed, it runs it: the replay must find those events
# in the stream and not add them twice
$before = status($ngx);
my $xlen = $aof->cmd(XLEN => $KEY);
$aof->pause;
is(visits($ngx, 100), 0, '100 events while redis-server is stopped');
ok(wait_for(sub { status($ngx)->{events_spooled}
                  >= $before->{events_spooled} + 100 }, 15),
   'all 100 spooled once the replies are given up');
$aof->resume;
ok(settled($ngx, $aof, $xlen + 100), 'replayed after SIGCONT');
exactly_once($ngx, $aof, $N + 500, 'paused');
$st = status($ngx);
is($st->{events_replayed} - $before->{events_replayed}
   + $st->{events_replay_duplicates} - $before->{events_replay_duplicates},
   100, 'each of the 100 replayed, or found in the stream');
diag("paused: $st->{events_replay_duplicates} found in the stream after "
     . "their replies were lost");

# live batches after a replay that found events: each event sent
is(visits($ngx, 100), 0, '100 more events, redis-server up');
ok(settled($ngx, $aof, $xlen + 200), 'all added');
exactly_once($ngx, $aof, $N + 600, 'after the paused replay');
$ngx->stop;

# --- a small queue: what does not fit goes to the spool --------------------

# about 180 events fit in 59,393 bytes; redis-server paused, the batch in
# flight waits, and the rest of 400 events cannot stay in memory
$ngx = start($aof, params => 'batch=16 flush=50ms queue=59393');
$before = { events => $aof->cmd(XLEN => $KEY) };
$aof->pause;
is(visits($ngx, 400), 0, '400 events, redis-server stopped');
ok(wait_for(sub { $st = status($ngx);
                  $st->{events_spooled} + $st->{events_redis_queue} == 400 },
            10), 'every event queued or spooled')
    or diag(explain($st));
ok($st->{events_redis_queue} < 200 && $st->{events_spooled} > 200,
   'the queue stays bounded, the rest is spooled')
    or diag(explain($st));
$aof->resume;
ok(settled($ngx, $aof, $before->{events} + 400), 'all in the stream');
$ngx->stop;
{
    my @in = map { $_->[1] } stream_events($aof);
    my %seen;
    is_deeply([grep { $seen{$_}++ } @in], [], 'small queue: no event twice');
    is(scalar @in, $before->{events} + 400, 'small queue: all 400 added');
}

# --- a spool file of a dead process: claimed, checked, replayed ----------

# A and C were added by Redis though their replies were lost (the header
# says so of A and B, a mark of C), B and D were not; a second file has
# E, added, and F, not
my $fresh = start_redis();
$fresh->cmd(XADD => $KEY, '*', 'e', '{"id":"01KAQDGGZVQ3B8Y6TZC1M4N700"}');
my $last = $fresh->cmd(XREVRANGE => $KEY, '+', '-', 'COUNT', 1)->[0][0];
my ($ms, $seq) = split /-/, $last;
my @ev = map { sprintf '{"id":"01KAQDGGZVQ3B8Y6TZC1M4N7%02d","ts":1}', $_ }
    1 .. 6;
$fresh->cmd(XADD => $KEY, '*', 'e', $ev[0]);
$fresh->cmd(XADD => $KEY, '*', 'e', 'not an event');
$fresh->cmd(XADD => $KEY, '*', 'e', $ev[2]);
$fresh->cmd(XADD => $KEY, '*', 'e', $ev[4]);

my $dead = 32767;
$dead-- while kill 0, $dead;
my $header = sprintf "#mkt-spool 1 done=%020d after=%020d-%020d n=%05d\n",
    95, $ms, $seq, 2;
my $file = "spool-$dead-0.jsonl";

$ngx = start($fresh, params => 'batch=2 flush=20ms');
$ngx->stop;
my $body = join '', "$ev[0]\n", "$ev[1]\n", "~$ms-$seq 1\n", "$ev[2]\n",
    "$ev[3]\n";
my $garbage = 95 + length $body;
write_file($ngx->prefix . "/spool/$file", $header . $body . "garbage\n"
           . '{"id":"01KAQDGGZVQ3B8Y6TZC1M4N799","t');
# and its next file, written after: replayed after the first
write_file($ngx->prefix . "/spool/spool-$dead-1.jsonl",
           $header . "$ev[4]\n$ev[5]\n");
$ngx->restart;
ok(settled($ngx, $fresh, 8), 'the files of a dead process replayed');
is_deeply([map { $_->[2] } @{ [stream_events_raw($fresh)] }],
          ['{"id":"01KAQDGGZVQ3B8Y6TZC1M4N700"}', $ev[0], 'not an event',
           $ev[2], $ev[4], $ev[1], $ev[3], $ev[5]],
          'B, D and F added, A, C and E not again, in order');
$st = status($ngx);
is($st->{events_spool_files_claimed}, 2, 'both claimed');
is($st->{events_replayed}, 3, 'events_replayed: B, D and F');
is($st->{events_replay_duplicates}, 3,
   'events_replay_duplicates: A, C and E');
is_deeply([spool_files($ngx)], [], 'the file is removed');
like($ngx->error_log, qr/not an event at offset $garbage, skipped/,
     'a line that is no event is skipped');
like($ngx->error_log, qr/bad line at offset @{[$garbage + 8]} skipped/,
     'so is a last line cut short');

# the batches after a replay that skipped events send every event
is(visits($ngx, 3), 0, '3 new events');
ok(settled($ngx, $fresh, 11), 'added');
is_deeply([map { $_->[2] } (stream_events_raw($fresh))[8 .. 10]],
          [map { $_->[1] } log_events($ngx)], 'each of them, in order');

finish();

# the stream's entries, field e as it is
sub stream_events_raw {
    my ($redis) = @_;
    return map { [$_->[0], undef, $_->[1][1]] }
        @{ $redis->cmd(XRANGE => $KEY, '-', '+') };
}

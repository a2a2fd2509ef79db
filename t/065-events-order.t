# The Redis sink's order through the spool (docs/events.md, the spool:
# "the failed events go to the spool in their order, then the events
# queued behind them, then every new event"): a batch in flight when the
# queue overflows, a refused replay batch inside a mark, an access_log
# sharing the event log's file.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Time::HiRes ();
use Mkt::Test;
# status(), and spool_files(): a list, or their number in scalar context
use Mkt::Faults qw(status spool_files);
use Mkt::FakeRedis;

my $EXP = encode_json({
    goals => ['purchase'],
    experiments => [
        { key => 'hero', variations => ['control', 'new-hero'],
          weights => [0.5, 0.5] },
    ],
});

my $KEY = 'mkt:events';

sub start {
    my ($redis, %o) = @_;
    return start_nginx(
        redis => $redis,
        workers => 1,
        files => { 'exp.json' => $EXP },
        allow => [qr/mkt redis|mkt events redis|mkt spool/],
        http  => <<"EOF2");
    mkt_config %%PREFIX%%/exp.json;
    mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=$o{timeout} backoff=200ms;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;
    mkt_events_redis stream=$KEY $o{params};
    mkt_events_spool %%PREFIX%%/spool;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;

        location / {
            return 204;
        }

        location = /status {
            mkt off;
            mkt_status;
        }
    }
EOF2
}

sub log_ids {
    my ($ngx) = @_;
    my $text = read_file($ngx->prefix . '/events.jsonl') // '';
    return map { decode_json($_)->{id} } split /\n/, $text;
}

sub stream_ids {
    my ($redis) = @_;
    my $r = $redis->cmd(XRANGE => $KEY, '-', '+');
    return () unless ref $r eq 'ARRAY';
    return map { decode_json($_->[1][1])->{id} } @$r;
}

sub visits {
    my ($ngx, $n) = @_;
    my $bad = 0;
    for (1 .. $n) {
        $bad++ unless $ngx->get('/lp', jar => new_jar())->{status} == 204;
    }
    return $bad;
}

# --- the queue fills while a batch is in flight, then the batch fails ----

# XADD is refused (the key is no stream), but redis-server is stopped
# while the first batch is in flight: the 59,393-byte queue fills behind
# it (about 180 events) and overflows into the spool; when redis-server
# resumes, well within 10 x timeout, the batch is refused.  Its 16 events
# are the oldest: they must come first in the spool, and in the stream.
my $redis = start_redis();
$redis->cmd(SET => $KEY, 'not a stream');
my $ngx = start($redis, timeout => '2s',
                params => 'batch=16 flush=50ms queue=59393');

ok(wait_for(sub { status($ngx)->{requests} >= 0 }, 5), 'nginx up');
$redis->pause;
is(visits($ngx, 300), 0, '300 events, redis-server stopped');
$redis->resume;
ok(wait_for(sub { status($ngx)->{events_spooled} == 300 }, 20),
   'all 300 spooled once the batch is refused')
    or diag(explain(status($ngx)));

$redis->cmd(DEL => $KEY);
ok(wait_for(sub { !spool_files($ngx) && status($ngx)->{events_replayed} == 300 },
            20), 'replayed once the key is free')
    or diag(explain(status($ngx)));

my @log = log_ids($ngx);
my @in = stream_ids($redis);
is(scalar @in, 300, '300 entries');
is_deeply(\@in, \@log, 'in the stream in the order acknowledged');
if (@in == 300) {
    my %pos;
    @pos{@in} = 0 .. $#in;
    is(join(',', map { $pos{$_} // '-' } @log[0 .. 3]), '0,1,2,3',
       'the first events acknowledged are the first in the stream');
}
$ngx->stop;

# The same with XADD accepted: the batch in flight is added when
# redis-server resumes, and is in the spool before what waited behind it;
# the replay finds its 16 events in the stream and adds only the others.
$redis->cmd(DEL => $KEY);
$ngx = start($redis, timeout => '2s',
             params => 'batch=16 flush=50ms queue=59393');
ok(wait_for(sub { status($ngx)->{requests} >= 0 }, 5), 'nginx up again');
$redis->pause;
is(visits($ngx, 300), 0, '300 events, redis-server stopped');
$redis->resume;
ok(wait_for(sub { my $st = status($ngx);
                  !spool_files($ngx) && $st->{events_redis_queue} == 0
                  && ($redis->cmd(XLEN => $KEY) // 0) >= 300 }, 20),
   'the spool replayed')
    or diag(explain(status($ngx)));
@log = log_ids($ngx);
@in = stream_ids($redis);
is_deeply(\@in, \@log, 'every event once, in the order acknowledged');
my $st = status($ngx);
is($st->{events_redis_written}, 16, 'the batch in flight was added');
is($st->{events_replay_duplicates}, 16, 'and found by the replay');
is($st->{events_replayed}, 284, 'the others replayed');
is($st->{events_redis_dropped}, 0, 'none dropped');
$ngx->stop;

# --- a torn last record, a worker killed: the rest replayed ---------------

# nginx stopped during an outage leaves its spool file; a record cut short
# at its end (a worker killed mid-write, a power cut) is skipped when the
# file is claimed, and every whole event before it is replayed
$redis->cmd(DEL => $KEY);
$ngx = start($redis, timeout => '100ms', params => 'batch=16 flush=50ms');
$redis->kill;
is(visits($ngx, 40), 0, '40 events while redis-server is down');
ok(wait_for(sub { status($ngx)->{events_spooled} == 40 }, 10),
   'the 40 spooled');
$ngx->stop;
my @files = spool_files($ngx);
is(scalar @files, 1, 'one spool file left');
{
    my $path = $ngx->prefix . "/spool/$files[0]";
    open my $fh, '>>', $path or die "$path: $!";
    print $fh '{"id":"01KAQDGGZVQ3B8Y6TZC1M4N7RE","ts":17638700';
    close $fh;
}
$ngx->restart;
$redis->start;
ok(wait_for(sub { !spool_files($ngx)
                  && ($redis->cmd(XLEN => $KEY) // 0) >= 40 }, 20),
   'the claimed file replayed and removed');
@log = log_ids($ngx);
is_deeply([stream_ids($redis)], \@log, 'the 40 whole events, in order');
like($ngx->error_log, qr/mkt spool "[^"]+": bad line at offset \d+ skipped/,
     'the torn record is logged');

# a worker killed (SIGKILL) with its spool written: claimed by the worker
# that replaces it, replayed once Redis is back (a new redis-server: the
# stream starts empty)
$redis->kill;
is(visits($ngx, 30), 0, '30 events while redis-server is down');
ok(wait_for(sub { status($ngx)->{events_spooled} == 30 }, 10),
   'the 30 spooled');
my ($w) = $ngx->worker_pids;
kill 'KILL', $w;
ok(wait_for(sub { my @p = $ngx->worker_pids; @p && $p[0] != $w }, 10),
   'a new worker');
$ngx->allow_log(qr/exited on signal 9/);
$redis->start;
ok(wait_for(sub { !spool_files($ngx)
                  && ($redis->cmd(XLEN => $KEY) // 0) >= 30 }, 20),
   'the dead worker\'s file claimed and replayed');
@log = log_ids($ngx);
is_deeply([stream_ids($redis)], [@log[40 .. 69]], 'the 30, in order, once');
$ngx->stop;

# --- a replay batch refused inside a mark ----------------------------------

# A mark says the next 5 events (A to E) may be in the stream; C, D and E
# are (their replies were lost).  With batch=1 the mark spans 5 replay
# batches.  B's XADD is refused once: its retry must still check C, D and
# E against the stream, not add them a second time.
my $dir = test_dir();
my $xadds = "$dir/xadds-mark.log";
my @ev = map { sprintf '{"id":"01KAQDGGZVQ3B8Y6TZC1M4N7%02d","ts":1}', $_ }
    1 .. 5;
my $in_stream = join '', "*3\r\n", map {
    my ($id, $e) = ("1-$_", $ev[$_]);
    "*2\r\n\$" . length($id) . "\r\n$id\r\n*2\r\n\$1\r\ne\r\n\$"
        . length($e) . "\r\n$e\r\n" } 2 .. 4;
my $nxadd = 0;
my $refused = 0;
my $fake = Mkt::FakeRedis->start(sub {
    my (@args) = @_;
    return $in_stream if uc $args[0] eq 'XRANGE';
    return undef unless uc $args[0] eq 'XADD';
    my $ans = ($args[-1] eq $ev[1] && !$refused++)
        ? "-ERR refused\r\n" : sprintf "\$3\r\n2-%d\r\n", ++$nxadd;
    open my $log, '>>', $xadds or die "$xadds: $!";
    print $log substr($args[-1], 31, 2), ($ans =~ /^-/ ? ' refused' : ''),
        "\n";
    close $log;
    return $ans;
});
$ngx = start($fake, timeout => '1s', params => 'batch=1 flush=20ms');
$ngx->stop;
my $dead = 32767;
$dead-- while kill 0, $dead;
write_file($ngx->prefix . "/spool/spool-$dead-0.jsonl",
           sprintf("#mkt-spool 1 done=%020d after=%020d-%020d n=%05d\n",
                   95, 0, 0, 0)
           . "~1-1 5\n" . join('', map {"$_\n"} @ev));
$ngx->restart;
ok(wait_for(sub { !spool_files($ngx) }, 20), 'the file replayed')
    or diag(read_file($xadds));
is(read_file($xadds), "01\n02 refused\n02\n",
   'A and B added (B at its second try), C, D and E found, not added');
my $st2 = status($ngx);
is($st2->{events_replayed}, 2, 'events_replayed: A and B');
is($st2->{events_replay_duplicates}, 3, 'events_replay_duplicates: C to E');
$ngx->stop;
$fake->stop;

# --- an access_log to the event log's file ---------------------------------

# nginx's access_log takes the file's buffer for its own (file->data): a
# request with no event (mkt off) puts its access line in the buffer
# first; the exposure after it must still reach the file within flush=
$ngx = start_nginx(files => { 'exp.json' => $EXP }, http => <<'EOF2');
    mkt_config %%PREFIX%%/exp.json;
    access_log %%PREFIX%%/shared.log;
    mkt_events_log %%PREFIX%%/shared.log buffer=64k flush=200ms;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;

        location / {
            return 204;
        }

        location = /off {
            mkt off;
            return 204;
        }
    }
EOF2
is($ngx->get('/off')->{status}, 204, 'a request without an event');
is($ngx->get('/lp', jar => new_jar())->{status}, 204, 'a page: an exposure');
ok(wait_for(sub { (read_file($ngx->prefix . '/shared.log') // '')
                  =~ /"type":"exposure"/ }, 5),
   'the exposure is in the file within its flush time');
my @lines = split /\n/, read_file($ngx->prefix . '/shared.log') // '';
is(scalar(grep { /^\{"id":/ } @lines), 1, 'one event line');
is(scalar(grep { /^127\.0\.0\.1 / } @lines), 2, 'two access lines');
$ngx->stop;

done_testing();

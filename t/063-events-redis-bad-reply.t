# A peer that answers XADD with a bulk string that is no stream id (a
# broken proxy, a fake server) has not proved it stored the event: the
# events go to the spool, counted as errors and bad replies, not as
# written, and are replayed once the peer answers with ids (finding 4 of
# docs/security.md).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;
use Mkt::FakeRedis;

my $N = 5;       # events, one batch
my $dir = test_dir();
my $xadds = "$dir/xadds.log";

# a fake Redis: the first $N XADDs get "$5 hello", later ones an id;
# each XADD is logged as "ANSWER EVENT-LINE"
my $nxadd = 0;
my $fake = Mkt::FakeRedis->start(sub {
    my (@args) = @_;
    return undef unless uc $args[0] eq 'XADD';
    my $ans = ++$nxadd <= $N ? 'hello' : "1-$nxadd";
    open my $log, '>>', $xadds or die "$xadds: $!";
    print $log "$ans $args[-1]\n";
    close $log;
    return '$' . length($ans) . "\r\n$ans\r\n";
});
my $fake_port = $fake->port;

my $ngx = start_nginx(
    files => { 'exp.json' => encode_json({ experiments => [
        { key => 'hero', variations => ['control', 'new-hero'] } ] }) },
    http  => <<"EOF");
    mkt_config %%PREFIX%%/exp.json;
    mkt_redis 127.0.0.1:$fake_port timeout=5s connect_timeout=5s;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;
    mkt_events_redis stream=mkt:events batch=$N flush=1h;
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
EOF

sub status { decode_json($ngx->get('/status')->{body}) }

# $N new visitors, one exposure event each: the batch goes at the Nth
# (flush=1h: with a spool the sink ticks every flush from the worker's
# start, and a tick between two of these requests, on a loaded machine,
# would send a part of the batch, which this fake cannot check for)
for (1 .. $N) {
    is($ngx->get('/lp', jar => new_jar())->{status}, 204, 'served');
}

ok(wait_for(sub { status()->{events_replayed} == $N }, 30),
   'the spooled events are replayed once the peer answers ids');
my $st = status();
is($st->{events}, $N, "$N events stored (the log sink)");
is($st->{events_redis_written}, 0, 'none counted as written to the stream');
is($st->{events_redis_errors}, $N, 'each XADD answered "hello" is an error');
is($st->{events_redis_bad_replies}, $N, 'and a bad reply');
is($st->{events_spooled}, $N, 'each went to the spool');
is($st->{events_replayed}, $N, 'and was replayed');
is($st->{events_redis_dropped}, 0, 'none dropped');
is($st->{events_dropped}, 0, 'no event lost');

my $prom = $ngx->get('/status?format=prometheus')->{body};
like($prom, qr/^mkt_events_redis_bad_replies_total $N$/m,
     'prometheus: mkt_events_redis_bad_replies_total');

# what the peer saw: each event refused as "hello", then the same events,
# in the same order, replayed
my @log = map { decode_json($_)->{id} }
    split /\n/, read_file($ngx->prefix . '/events.jsonl') // '';
is(scalar @log, $N, "$N events in the log sink");
my (@hello, @replayed);
for (split /\n/, read_file($xadds) // '') {
    my ($ans, $line) = split / /, $_, 2;
    push @{ $ans eq 'hello' ? \@hello : \@replayed },
        decode_json($line)->{id};
}
is_deeply(\@hello, \@log, 'the batch: every event, answered "hello"');
is_deeply(\@replayed, \@log, 'the replay: the same events, once, in order');

my @lines = $ngx->error_log =~ /(XADD to "mkt:events" answered no stream id[^\n]*)/g;
is(scalar @lines, 1, 'logged once for the batch (rate-limited)');
like($lines[0] // '', qr/\(reply type 1, 5 bytes\): taken as not added/,
     'the log line says what came, not the bytes themselves');

$fake->stop;
finish();

# Events through nginx (DESIGN.md section 8): exposures once per visitor,
# experiment and variation a day, never for forced, bot, prefetch,
# untracked or stopped; touch events; the JSON-lines sink with its
# buffer, flush timer and reopen.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;

my $SECRET = 'events-secret-0123456789abcdef';

my $exp = encode_json({
    goals => ['signup', 'purchase'],
    experiments => [
        { key => 'hero', variations => ['control', 'new-hero'],
          weights => [0.5, 0.5] },
        { key => 'all-in', variations => ['a', 'b'], weights => [0, 1] },
        { key => 'done', status => 'stopped', winner => 'won',
          variations => ['old', 'won'] },
        { key => 'draft', status => 'draft', variations => ['x', 'y'] },
        # hashed on a user id every test visitor shares: all in one arm,
        # the kind of bug the live SRM check is for
        { key => 'skewed', hashAttribute => 'uid',
          variations => ['c', 't'], weights => [0.5, 0.5] },
    ],
});

my $ngx = start_nginx(files => { 'exp.json' => $exp }, http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;
    mkt_events_log %%PREFIX%%/buffered.jsonl buffer=64k flush=300ms;
    mkt_qa 127.0.0.1;
    mkt_privacy gpc=on;
    mkt_user_id \$http_x_user;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name www.example.com;
        mkt on;

        location / {
            add_header X-Hero \$mkt_exp_hero always;
            return 200 "ok\\n";
        }

        location = /status {
            mkt off;
            mkt_status;
        }
    }
EOF

my $log = $ngx->prefix . '/events.jsonl';
my $buffered = $ngx->prefix . '/buffered.jsonl';

sub events {
    my ($file) = @_;
    return () unless -e $file;
    my @ev;
    for my $line (split /\n/, read_file($file)) {
        my $e = eval { decode_json($line) };
        ok($e, "valid JSON line") or diag($line);
        push @ev, $e if $e;
    }
    return @ev;
}

sub status {
    return decode_json(request(GET => '/status')->{body});
}

sub visit {
    my ($jar, $path, %h) = @_;
    return request(GET => $path, jar => $jar,
                   headers => { Host => 'www.example.com', %h });
}

# --- exposures -----------------------------------------------------------

my $jar = new_jar();
my $res = visit($jar, '/landing');
is($res->{status}, 200, 'first visit served');
my $hero = $res->{headers}{'x-hero'};
like($hero, qr/^(control|new-hero)$/, 'assigned in hero');
my $vid = (split /\./, $jar->cookie('_mkt'))[1];

my @ev = events($log);
is(scalar @ev, 2, 'two exposures: hero and all-in, not stopped or draft');
my %by = map { $_->{exp} => $_ } @ev;
is_deeply([sort keys %by], ['all-in', 'hero'], 'for the running experiments');
is($by{hero}{type}, 'exposure', 'type');
is($by{hero}{var}, $hero, 'the variation served');
is($by{'all-in'}{var}, 'b', 'all-in: b');
is($by{hero}{vid}, $vid, 'the visitor id of the cookie');
like($by{hero}{id}, qr/^[0-9A-HJKMNP-TV-Z]{26}$/, 'a ULID');
isnt($by{hero}{id}, $by{'all-in'}{id}, 'ids differ');
ok(abs($by{hero}{ts} / 1000 - time) < 60, 'ts in milliseconds, now');
is_deeply($by{hero}{assign}, { hero => $hero, 'all-in' => 'b',
                               done => 'won' },
          'assign: every assignment (the winner too)');
is($by{hero}{host}, 'www.example.com', 'host');
is($by{hero}{path}, '/landing', 'path');
is($by{hero}{device}, 'desktop', 'device');

$res = visit($jar, '/again');
is($res->{headers}{'x-hero'}, $hero, 'same variation on return');
is(scalar(() = events($log)), 2, 'no second exposure the same day');

# the day of the last exposure lives in _mkt_sb: an entry of yesterday
# (the cookie cannot be edited without the secret, so check via a new
# visitor whose cookie is dropped: exposed again as a new visitor)
my $jar2 = new_jar();
visit($jar2, '/');
is(scalar(() = events($log)), 4, 'another visitor: two more');
$jar2->delete('_mkt_sb');
visit($jar2, '/');
is(scalar(() = events($log)), 6,
   'without its sticky cookie the same visitor is exposed again');

# --- never for forced, bots, prefetch, untracked -------------------------

my $n = scalar(() = events($log));

$res = visit(new_jar(), '/?mkt_force=hero:new-hero,all-in:a');
is($res->{headers}{'x-hero'}, 'new-hero', 'forced');
@ev = events($log);
is(scalar @ev, $n, 'forced variations: no exposure');

visit(new_jar(), '/', 'User-Agent' => 'Mozilla/5.0 (compatible; '
      . 'Googlebot/2.1; +http://www.google.com/bot.html)');
is(scalar(() = events($log)), $n, 'bot: no exposure');

visit(new_jar(), '/', 'Sec-Purpose' => 'prefetch');
is(scalar(() = events($log)), $n, 'prefetch: no exposure');

visit(new_jar(), '/', 'Sec-GPC' => '1');
is(scalar(() = events($log)), $n, 'GPC: no exposure');

request(HEAD => '/', jar => new_jar(), headers => { Host => 'www.example.com' });
is(scalar(() = events($log)), $n, 'HEAD (a monitor): no exposure');

# --- touches ---------------------------------------------------------------

my $tjar = new_jar();
visit($tjar, '/lp?utm_source=xiaohongshu&utm_medium=social'
      . '&utm_campaign=w47&gclid=abc123');
@ev = grep { $_->{type} eq 'touch' } events($log);
is(scalar @ev, 1, 'one touch event');
my $t = $ev[0];
is_deeply($t->{utm}, { source => 'xiaohongshu', medium => 'social',
                       campaign => 'w47' }, 'utm');
is($t->{click_name}, 'gclid', 'click name');
is($t->{click_id}, 'abc123', 'click id');
is_deeply($t->{lt}, { source => 'xiaohongshu', medium => 'social',
                      campaign => 'w47' }, 'lt: the touch');
is($t->{channel}, 'paid_search', 'channel: a gclid is a Google Ads click');
is($t->{vid}, (split /\./, $tjar->cookie('_mkt'))[1], 'touch vid');
ok($t->{assign}{hero}, 'touch carries assignments');

visit($tjar, '/next');
is(scalar(grep { $_->{type} eq 'touch' } events($log)), 1,
   'a direct visit is no touch');

visit($tjar, '/', Referer => 'https://www.baidu.com/s?wd=x');
@ev = grep { $_->{type} eq 'touch' } events($log);
is(scalar @ev, 2, 'an external referrer is a touch');
is($ev[1]{referrer}, 'www.baidu.com', 'referrer host');
is($ev[1]{channel}, 'organic_search', 'search channel');
is_deeply($ev[1]{ft}, { source => 'xiaohongshu', medium => 'social',
                        campaign => 'w47' }, 'ft kept from the first touch');

visit(new_jar(), '/?utm_source=x', 'Sec-GPC' => '1');
is(scalar(grep { $_->{type} eq 'touch' } events($log)), 2,
   'untracked: no touch event');

# --- counters --------------------------------------------------------------

my $st = status();
my $all = scalar(() = events($log));
is($st->{events_exposures}, scalar(grep { $_->{type} eq 'exposure' }
                                   events($log)), 'events_exposures');
is($st->{events_touches}, 2, 'events_touches');
is($st->{exposures}, $st->{events_exposures}, 'exposures counted');
is($st->{events_dropped}, 0, 'nothing dropped');

# --- exposures per variation and the live SRM check -----------------------

my $prom = request(GET => '/status?format=prometheus')->{body};
my %hero;
my @exposed = grep { $_->{type} eq 'exposure' } events($log);
$hero{$_->{var}}++ for grep { $_->{exp} eq 'hero' } @exposed;
for my $v ('control', 'new-hero') {
    is($st->{experiments}{hero}{exposures}{$v}, $hero{$v} // 0,
       "hero/$v exposures in the status");
    like($prom, qr/^mkt_exposures_total\{experiment="hero",variation="$v"\} \Q@{[ $hero{$v} \/\/ 0 ]}\E$/m,
         "hero/$v exposures for Prometheus");
}
is_deeply([sort keys %{$st->{experiments}}], ['all-in', 'hero', 'skewed'],
          'running experiments only');
is($st->{experiments}{hero}{srm_p}, undef, 'too few exposures: no p yet');
is($st->{experiments}{hero}{srm}, JSON::PP::false, 'and no flag');
like($prom, qr/^mkt_srm_p_value\{experiment="hero"\} -1\.000000$/m,
     'p -1 for Prometheus');

for (1 .. 12) {
    visit(new_jar(), '/', 'X-User' => 'shared-user');
}
$st = status();
# (fnv32a hashing of "shared-user" puts it in c, whatever the visitor)
is_deeply($st->{experiments}{skewed}{exposures}, { c => 12, t => 0 },
          'skewed: 12 to 0');
# chi-square of 12:0 against 6:6 is 12, p = erfc(sqrt(6)) = 0.000532
cmp_ok(abs($st->{experiments}{skewed}{srm_p} - 0.000532), '<', 0.000001,
       'skewed: chi-square p-value 0.000532');
is($st->{experiments}{skewed}{srm}, JSON::PP::true, 'skewed: SRM flagged');
$prom = request(GET => '/status?format=prometheus')->{body};
like($prom, qr/^mkt_srm_mismatch\{experiment="skewed"\} 1$/m,
     'flag for Prometheus');
like($prom, qr/^mkt_srm_mismatch\{experiment="all-in"\} 0$/m,
     'all-in (weights 0 and 1, everyone in b) is no mismatch');

# a tagged link from the site itself is a touch (its campaign), but the
# referrer is no other site: the event names none, as the touch keeps none
# (docs/events.md), so a report cannot take the site for the source
visit(new_jar(), '/?utm_campaign=spring',
      Referer => 'https://blog.example.com/post');
@ev = grep { $_->{type} eq 'touch' } events($log);
is(scalar @ev, 3, 'a tagged link from the same site is a touch');
is($ev[2]{referrer}, undef, 'with no referrer: it is the same site');
is_deeply($ev[2]{lt}, { campaign => 'spring' }, 'lt: the campaign alone');
visit(new_jar(), '/?utm_source=news', Referer => 'https://www.example.com/');
@ev = grep { $_->{type} eq 'touch' } events($log);
is($ev[3]{referrer}, undef, 'nor from the request host itself');
$all = scalar(() = events($log));

# a reload with the same experiments keeps the counts
$ngx->reload;
is_deeply(status()->{experiments}{skewed}{exposures}, { c => 12, t => 0 },
          'counts kept across a reload');

# --- the buffered sink: flushed by its timer, whole lines, reopen ---------

ok(wait_for(sub { scalar(() = events($buffered)) == $all }, 5),
   'the buffered log catches up within its flush time');
is(read_file($buffered), read_file($log), 'same lines in both sinks');
$st = status();
is($st->{events_log_written}, 2 * $all, 'events_log_written: both sinks');
is($st->{events_log_errors}, 0, 'no write errors');

rename($buffered, "$buffered.1") or die "rename: $!";
visit(new_jar(), '/');
$ngx->reopen;
ok(wait_for(sub { -e $buffered }, 5), 'reopened: a new file');
visit(new_jar(), '/');
ok(wait_for(sub { scalar(() = events($buffered)) == 2 }, 5),
   'new events go to the new file');
is(scalar(() = events("$buffered.1")), $all + 2,
   'the buffer was flushed into the old file before reopening');

# at exit the buffer is flushed
visit(new_jar(), '/');
$ngx->stop;
is(scalar(() = events($buffered)), 4, 'flushed at worker exit');

finish();

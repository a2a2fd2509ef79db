# Lua plugins through nginx: an attributes hook drives an experiment
# condition and a slot rule, a choose hook picks a slot's variant, the
# lifecycle example classifies tags from Redis, failing plugins (errors,
# infinite loops, forbidden calls, a gigabyte) leave requests served with
# defaults and are counted in mkt_status (JSON and Prometheus) and backed
# off, "nginx -t" names a syntax error's file and line, a reload swaps
# plugins.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use FindBin;
use POSIX qw(strftime);
use Mkt::Test;

my $SECRET = 'plugins-secret-0123456789abcdef';

my $redis = start_redis();
my $recent = strftime('%Y-%m-%d', gmtime(time - 3 * 86400));
$redis->cmd(ZADD => 'mkt:tags:u-active', '+inf', "last_purchase:$recent");
$redis->cmd(ZADD => 'mkt:tags:u-dormant', '+inf',
            'last_purchase:2020-01-01');

my $config = encode_json({
    experiments => [
        { key => 'gold-offer', hashVersion => 2,
          variations => ['control', 'offer'], weights => [0, 1],
          condition => { tier => 'gold' } },
    ],
    slots => [
        { key => 'hero', variants => ['generic', 'gold', 'winback', 'pick'],
          rules => [
              { if => { tier => 'gold' }, variant => 'gold' },
              { if => { lifecycle => 'dormant' }, variant => 'winback' },
          ],
          default => 'generic' },
    ],
    plugins => { tier => { header => 'X-Tier' },
                 lifecycle => { dormant_days => 60 } },
});

# tier: an attribute from a header named by its config
my $tier = <<'EOF';
local header
return {
    init = function(c) header = c.header end,
    attributes = function(ctx)
        local t = ctx.headers[header]
        if t then return { tier = t } end
    end,
}
EOF

# pick: ?pick=NAME chooses the hero variant, whatever it is
my $pick = <<'EOF';
return {
    choose = function(slot, ctx)
        if slot.key == 'hero' then return ctx.query.pick end
    end,
}
EOF

# boom: ?fail=... fails the way asked, after ?fail= is read
my $boom = <<'EOF';
return {
    attributes = function(ctx)
        local f = ctx.query.fail
        if f == 'error' then error('boom') end
        if f == 'loop' then while true do end end
        if f == 'io' then io.open('/etc/passwd') end
        if f == 'exec' then os.execute('touch /tmp/mkt-pwned') end
        if f == 'ffi' then require('ffi') end
        if f == 'memory' then local s = string.rep('x', 2^30) end
        if f == 'recurse' then local function r() return 1 + r() end r() end
        if f == 'dump' then assert(load(string.dump(print))) end
        if f == 'type' then return 'not a table' end
        return { boom = 'no' }
    end,
}
EOF

sub http {
    my (@plugins) = @_;
    my $directives = join '', map { "    mkt_plugin %%PREFIX%%/$_.lua;\n" }
                                  @plugins;
    return <<"EOF";
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
$directives
    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        mkt_user_id \$http_x_user_id;

        location / {
            return 200 "exp=\$mkt_exp_gold_offer hero=\$mkt_slot_hero\\n";
        }

        location = /status {
            mkt off;
            mkt_status;
        }
    }
EOF
}

my %files = (
    'exp.json' => $config,
    'tier.lua' => $tier,
    'pick.lua' => $pick,
    'boom.lua' => $boom,
    'lifecycle.lua' => read_file("$FindBin::Bin/../lua/plugins/lifecycle.lua"),
);

my $ngx = start_nginx(files => \%files,
                      http => http(qw(tier lifecycle pick boom)),
                      allow => [qr/mkt plugin boom: /]);

sub page {
    my ($path, %h) = @_;
    return request(GET => $path, headers => \%h);
}

sub status {
    my $r = request(GET => '/status');
    return decode_json($r->{body});
}

# --- attributes drive conditions and rules ---------------------------------

my $r = page('/', 'X-Tier' => 'gold');
is($r->{status}, 200, 'served');
is($r->{body}, "exp=offer hero=gold\n",
   'tier from the plugin: in the experiment, the gold variant');

$r = page('/', 'X-Tier' => 'silver');
is($r->{body}, "exp= hero=generic\n", 'another tier: neither');

$r = page('/');
is($r->{body}, "exp= hero=generic\n", 'no tier attribute: neither');

# --- the lifecycle example, from tags in Redis -------------------------------

$r = page('/', 'X-User-Id' => 'u-dormant');
is($r->{body}, "exp= hero=winback\n", 'dormant customer: the win-back hero');
$r = page('/', 'X-User-Id' => 'u-active');
is($r->{body}, "exp= hero=generic\n", 'active customer: the default');

# --- choose ----------------------------------------------------------------

$r = page('/?pick=pick', 'X-Tier' => 'gold');
is($r->{body}, "exp=offer hero=pick\n", 'choose overrides the rule');
$r = page('/?pick=platinum', 'X-Tier' => 'gold');
is($r->{body}, "exp=offer hero=gold\n",
   'a variant the slot lacks is ignored');
is(status()->{plugins}{pick}{ignored}, 1, 'and counted');

# --- failing plugins: served with defaults, counted -------------------------

my %want = (error => 'errors', loop => 'budget', io => 'errors',
            exec => 'errors', ffi => 'errors', memory => 'memory',
            recurse => 'errors', dump => 'errors');
for my $f (qw(error loop io exec ffi memory recurse dump)) {
    # a success in between keeps boom from its back-off
    page('/?fail=none');
    my $before = status()->{plugins}{boom}{$want{$f}};
    $r = page("/?fail=$f", 'X-Tier' => 'gold');
    is($r->{status}, 200, "fail=$f: served");
    is($r->{body}, "exp=offer hero=gold\n",
       "fail=$f: the other plugins' decisions stand");
    is(status()->{plugins}{boom}{$want{$f}}, $before + 1,
       "fail=$f: counted as $want{$f}");
}
ok(!-e '/tmp/mkt-pwned', 'os.execute did nothing');
like($ngx->error_log, qr/mkt plugin boom: attributes\(\) failed: .*boom\.lua:4: boom/,
     'the error is logged with file and line');
like($ngx->error_log, qr/mkt plugin boom: attributes\(\) failed: .*io is not allowed in plugins/,
     'the forbidden call is logged');

$r = page('/?fail=type');
is($r->{status}, 200, 'a wrong return type: served');
is(status()->{plugins}{boom}{ignored}, 1, 'and counted as ignored');

my $s = status();
is_deeply([sort keys %{$s->{plugins}}], [qw(boom lifecycle pick tier)],
          'every plugin in mkt_status');
is_deeply($s->{plugins}{tier},
          { errors => 0, budget => 0, memory => 0, ignored => 0,
            disabled => 0, skipped => 0, dropped => 0, log_suppressed => 0 },
          'a healthy plugin counts nothing');

# five failures in a row: disabled (30 s), then skipped
for (1 .. 5) {
    page('/?fail=error');
}
$s = status();
is($s->{plugins}{boom}{disabled}, 1, 'disabled after five failures');
$r = page('/?fail=error', 'X-Tier' => 'gold');
is($r->{body}, "exp=offer hero=gold\n", 'served while disabled');
is(status()->{plugins}{boom}{skipped}, 1, 'its hook skipped');
like($ngx->error_log, qr/mkt plugin boom: disabled for 30000 ms after 5 consecutive failures/,
     'the back-off is logged');

$r = request(GET => '/status?format=prometheus');
like($r->{body}, qr/^# TYPE mkt_plugin_errors_total counter$/m,
     'prometheus: typed');
like($r->{body}, qr/^mkt_plugin_budget_total\{plugin="boom"\} 1$/m,
     'prometheus: per plugin');
like($r->{body}, qr/^mkt_plugin_errors_total\{plugin="tier"\} 0$/m,
     'prometheus: every plugin');

# --- reload swaps plugins ----------------------------------------------------

$files{'tier.lua'} = <<'EOF';
return { attributes = function(ctx) return { tier = 'gold' } end }
EOF
$ngx->reload(files => \%files, http => http(qw(tier)));
$r = page('/');
is($r->{body}, "exp=offer hero=gold\n", 'reloaded: the new tier plugin');
is_deeply([keys %{status()->{plugins}}], ['tier'], 'only it in mkt_status');

# a bad plugin on reload: refused, the old ones keep serving
$files{'bad.lua'} = "return {\n  attributes = function(ctx)\n    x = = 1\n"
                  . "  end }\n";
my $emerg = $ngx->reload(files => \%files, http => http(qw(tier bad)),
                         expect_fail => 1);
like($emerg, qr/bad\.lua:3: unexpected symbol near '='/,
     'a reload with a syntax error is refused');
$r = page('/');
is($r->{body}, "exp=offer hero=gold\n", 'the old plugins still serve');

# --- workers: one VM each, counters summed --------------------------------

$ngx->stop;
$ngx = start_nginx(files => \%files, http => http(qw(boom)), workers => 2,
                   allow => [qr/mkt plugin boom: /]);
my %pids;
for (1 .. 8) {
    # a failure, then a success on the same connection, so in the same
    # worker: no worker sees two failures in a row and backs boom off,
    # whichever worker the kernel hands each connection
    my @r = raw_request($ngx, "GET /?fail=error HTTP/1.1\r\nHost: x\r\n\r\n"
                        . "GET /?fail=none HTTP/1.1\r\nHost: x\r\n"
                        . "Connection: close\r\n\r\n", responses => 2);
    is(join(' ', map { $_->{status} } @r), '200 200',
       "two workers: round $_ served");
}
$s = status()->{plugins}{boom};
is_deeply([@{$s}{qw(errors skipped disabled)}], [8, 0, 0],
          'two workers: every failing call counted once, summed');

# --- events: enriched by campaign_group, dropped by a plugin ----------------

$files{'campaign_group.lua'} =
    read_file("$FindBin::Bin/../lua/plugins/campaign_group.lua");
$files{'hide.lua'} = <<'EOF';
return { event = function(ev)
    if ev.exp == 'hidden' or ev.goal == 'test_goal' then return false end
    ev.props.seen_by = 'hide'
end }
EOF
$files{'events.json'} = encode_json({
    goals => ['purchase', 'test_goal'],
    experiments => [
        { key => 'shown', variations => ['a', 'b'], weights => [0, 1] },
        { key => 'hidden', variations => ['a', 'b'], weights => [0, 1] },
    ],
    plugins => { campaign_group => { groups => { search => ['baidu'] } } },
});
$ngx->stop;
$ngx = start_nginx(files => \%files, http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/events.json;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;
    mkt_plugin %%PREFIX%%/campaign_group.lua;
    mkt_plugin %%PREFIX%%/hide.lua;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        location / { return 200 "ok\n"; }
        location = /collect { mkt off; mkt_collect; }
        location = /status { mkt off; mkt_status; }
    }
EOF

$r = request(GET => '/landing?utm_source=baidu&utm_medium=cpc');
is($r->{status}, 200, 'events: served');
my @events = map { decode_json($_) }
             split /\n/, read_file($ngx->prefix . '/events.jsonl') // '';
my %by = map { ($_->{type} . ($_->{exp} // ''), $_) } @events;
is_deeply([sort keys %by], [qw(exposureshown touch)],
          'the exposure of "hidden" was dropped by the plugin');
is_deeply($by{touch}{props}, { campaign_group => 'search', seen_by => 'hide' },
          'the touch enriched by both plugins, in order');
is($by{touch}{utm}{source}, 'baidu', 'the rest of the event as it was');
is($by{exposureshown}{props}{seen_by}, 'hide', 'the exposure enriched');
is(status()->{plugins}{hide}{dropped}, 1, 'the drop counted');

# a beacon whose conversion a plugin drops is acknowledged, not recorded
my $lines = scalar @events;
$r = request(GET => '/collect?goal=test_goal');
is($r->{status}, 204, 'a dropped conversion is acknowledged (204, not 503)');
$r = request(GET => '/collect?goal=purchase&value=5');
is($r->{status}, 204, 'a kept conversion: 204');
@events = map { decode_json($_) }
          split /\n/, read_file($ngx->prefix . '/events.jsonl') // '';
is(scalar @events, $lines + 1, 'only the kept conversion was written');
is($events[-1]{goal}, 'purchase', 'and it is the purchase');
is_deeply([@{status()}{qw(collect_unacknowledged events_conversions)}],
          [0, 1], 'no 503, one conversion recorded');
is(status()->{plugins}{hide}{dropped}, 2, 'the conversion drop counted');

# --- nginx -t ----------------------------------------------------------------

my ($rc, $out, $conf) = nginx_test_config(
    files => { 'bad.lua' => $files{'bad.lua'}, 'exp.json' => $config },
    http => "mkt_config %%PREFIX%%/exp.json;\n"
          . "mkt_plugin %%PREFIX%%/bad.lua;\n");
isnt($rc, 0, 'syntax error: nginx -t fails');
like($out, qr{/bad\.lua:3: unexpected symbol near '=' in \Q$conf\E:2},
     'syntax error: the plugin file and line, the config file and line');

($rc, $out) = nginx_test_config(
    files => { 'exp.json' => $config,
               'lifecycle.lua' => $files{'lifecycle.lua'},
               'exp2.json' => encode_json({
                   plugins => { lifecycle => { dormant_dayz => 1 } } }) },
    http => "mkt_config %%PREFIX%%/exp2.json;\n"
          . "mkt_plugin %%PREFIX%%/lifecycle.lua;\n");
isnt($rc, 0, 'init refusing its config: nginx -t fails');
like($out, qr/plugin lifecycle: init\(\) failed: .*unknown setting dormant_dayz/,
     'init refusing its config: the message');

# a misspelt hook: loaded, and nginx -t says it will never be called
($rc, $out) = nginx_test_config(
    files => { 'typo.lua' => "return { atributes = function() end }\n" },
    http => "mkt_plugin %%PREFIX%%/typo.lua;\n");
is($rc, 0, 'a misspelt hook: nginx -t passes');
like($out, qr/\[warn\].*typo\.lua: "atributes" is a function but no hook .*never called/,
     'a misspelt hook: warned of');

finish();

# mkt report and mkt gen end to end: files and stdin, malformed lines,
# the config's order and weights, every output format, and the HTML
# rendered in headless Chromium when the chromium package is installed.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;

my $mkt = $ENV{MKT_CLI};
plan skip_all => 'MKT_CLI is not set (make integration sets it)'
    unless defined $mkt && -x $mkt;

my $dir = test_dir();

my ($code, $out, $err) = run_cmd([$mkt, 'gen', '--visitors', 3000,
    '--seed', 5, '--uplift', 0.2]);
is($code, 0, 'mkt gen exits 0');
my @lines = split /\n/, $out;
cmp_ok(scalar @lines, '>', 9000, 'mkt gen wrote events');
write_file("$dir/events.jsonl", $out);
my ($code2, $again) = run_cmd([$mkt, 'gen', '--visitors', 3000,
    '--seed', 5, '--uplift', 0.2]);
ok($again eq $out, 'mkt gen is deterministic');

# --- JSON from a file, and the same from stdin with bad lines added
($code, $out, $err) = run_cmd([$mkt, 'report', '--format', 'json',
    "$dir/events.jsonl"]);
is($code, 0, 'report exits 0');
is($err, '', 'nothing on stderr');
my $r = decode_json($out);
is($r->{version}, 1, 'schema version');
is($r->{input}{lines}, scalar @lines, 'every line read');
is($r->{input}{malformed}, 0, 'none malformed');
is($r->{input}{persons}, 3000, 'persons');
is_deeply($r->{goals}, ['signup', 'purchase'], 'goals as first seen');
my $e = $r->{experiments}[0];
is($e->{key}, 'gen-exp', 'the experiment');
is_deeply([map { $_->{name} } @{$e->{variations}}], ['control', 'v1'],
    'control first');
my $sum = 0;
$sum += $_->{exposed} for @{$e->{variations}};
is($sum, 3000, 'every visitor exposed once');
my $signup = $e->{goals}[0]{variations};
is($signup->[0]{vs_control}, undef, 'no comparison for the control');
for my $k (qw(uplift uplift_ci p chance_to_beat revenue cuped)) {
    ok(exists $signup->[1]{vs_control}{$k}, "vs_control.$k");
}
ok(!exists $signup->[1]{vs_control}{sequential_diff_ci},
    'no sequential interval unless asked');
is_deeply($r->{attribution}{models},
    [qw(first_touch last_touch linear time_decay position)], 'models');

my $credit = 0;
$credit += $_->{conversions}{linear} for @{$r->{attribution}{channel}};
cmp_ok(abs($credit - $r->{attribution}{conversions}), '<', 1e-6,
    'linear credit sums to the conversions');

($code, $out, $err) = run_cmd([$mkt, 'report', '--format', 'json',
    '--sequential', '2000', '-'],
    stdin => "not json\n" . join("\n", @lines) . "\n{\"ts\":1}\n");
is($code, 0, 'stdin: exits 0');
my $s = decode_json($out);
is($s->{input}{malformed}, 2, 'two malformed lines counted');
like($err, qr/2 malformed lines skipped/, 'and said on stderr');
is($s->{experiments}[0]{goals}[0]{variations}[1]{converted},
    $signup->[1]{converted}, 'the same numbers from stdin');
is(scalar @{$s->{experiments}[0]{goals}[0]{variations}[1]{vs_control}
    {sequential_diff_ci}}, 2, 'sequential interval with --sequential');

# --- a config: its variation order, its weights, its goals
write_file("$dir/config.json", <<'JSON');
{"goals": ["purchase", "signup"],
 "experiments": [{"key": "gen-exp", "variations": ["v1", "control"],
                  "weights": [0.2, 0.8], "goals": ["purchase"]}]}
JSON
($code, $out) = run_cmd([$mkt, 'report', '--format', 'json', '--config',
    "$dir/config.json", "$dir/events.jsonl"]);
is($code, 0, 'with a config: exits 0');
$r = decode_json($out);
$e = $r->{experiments}[0];
is_deeply([map { $_->{name} } @{$e->{variations}}], ['v1', 'control'],
    'the config order: v1 is the control');
ok($e->{in_config}, 'in_config');
is_deeply([map { $_->{goal} } @{$e->{goals}}], ['purchase'],
    "the experiment's goals");
ok($e->{srm}{mismatch}, '50/50 against 20/80 is a sample ratio mismatch');
cmp_ok($e->{srm}{p}, '<', 0.001, 'SRM p-value');
is_deeply($r->{goals}, ['purchase', 'signup'], 'funnel in config order');

# --- --goal and --from/--to
($code, $out) = run_cmd([$mkt, 'report', '--format', 'json', '--goal',
    'purchase', '--to', '2026-10-01', "$dir/events.jsonl"]);
$r = decode_json($out);
is($r->{input}{out_of_range}, scalar @lines, 'all events are after --to');
is_deeply($r->{experiments}, [], 'no experiment left');

# --- table and CSV
($code, $out) = run_cmd([$mkt, 'report', "$dir/events.jsonl"]);
is($code, 0, 'table: exits 0');
like($out, qr/^experiment gen-exp/m, 'table: experiment');
like($out, qr/^\s+v1\s+\d+\s+\d+\s+[\d.]+%\s+[-+][\d.]+%/m,
    'table: a variation row');

($code, $out) = run_cmd([$mkt, 'report', '--format', 'csv',
    "$dir/events.jsonl"]);
my @csv = split /\r\n/, $out;
is($csv[0], 'kind,experiment,goal,variation,dimension,name,model,visitors,'
    . 'converted,rate,uplift,uplift_lo,uplift_hi,p,chance_to_beat,'
    . 'revenue_per_visitor,revenue_uplift,revenue_p,cuped_diff,cuped_lo,'
    . 'cuped_hi,variance_reduction,srm_p,credit_conversions,credit_revenue',
    'csv header');
is(scalar(grep { /^experiment,/ } @csv), 4, '2 goals x 2 variations');
is(scalar(grep { !/^kind/ && (split /,/, $_, -1) != 25 } @csv), 0,
    'every row has 25 columns');

# --- errors
($code, undef, $err) = run_cmd([$mkt, 'report', '--format', 'xml', 'x']);
is($code, 2, 'bad format: exit 2');
($code, undef, $err) = run_cmd([$mkt, 'report', "$dir/missing.jsonl"]);
is($code, 1, 'missing file: exit 1');
like($err, qr/cannot open/, 'missing file: said');
# a half-life that is 0 once in milliseconds would make every time-decay
# weight 0/0: refused like 0 itself
($code, undef, $err) = run_cmd([$mkt, 'report', '--half-life', '1e-9',
    "$dir/events.jsonl"]);
is($code, 2, 'a half-life under a millisecond: exit 2');
like($err, qr/expected a number of days/, 'and said');
($code, undef, $err) = run_cmd([$mkt, 'report', '--lookback', '1e-9',
    "$dir/events.jsonl"]);
is($code, 2, 'a lookback under a millisecond: exit 2');

# --- the text table of a hand-written file: no control character of the
# file reaches the terminal (an escape sequence, a newline in a cell)
write_file("$dir/esc.jsonl", join("\n",
    '{"id":"01JD0000000000000000000001","ts":1763870000000,"type":"touch",'
    . '"vid":"AAAAAAAAAAAAAAAAAAAAAA","utm":{"source":"x\\u001b[31mY",'
    . '"medium":"cpc","campaign":"c\\nd"}}',
    '{"id":"01JD0000000000000000000002","ts":1763870001000,'
    . '"type":"conversion","vid":"AAAAAAAAAAAAAAAAAAAAAA","goal":"purchase"}')
    . "\n");
($code, $out) = run_cmd([$mkt, 'report', "$dir/esc.jsonl"]);
is($code, 0, 'table of a hand-written file: exit 0');
unlike($out, qr/[\x00-\x08\x0b-\x1f\x7f]/, 'table: no control character');
like($out, qr/^  x\[31mY +1\.00/m, 'table: the source without its escape');
like($out, qr/^  cd +1\.00/m, 'table: the campaign on one line');

# --- a Redis stream: field "e" of each entry, read in pages of 1000
my $redis = start_redis();
my @some = @lines[0 .. 2499];
$redis->cmd(XADD => 'mkt:events', '*', 'e', $_) for @some;
$redis->cmd(XADD => 'mkt:events', '*', 'other', 'x');
write_file("$dir/some.jsonl", join("\n", @some) . "\n");
($code, $out, $err) = run_cmd([$mkt, 'report', '--format', 'json',
    '--redis', '127.0.0.1:' . $redis->port, '--stream', 'mkt:events']);
is($code, 0, 'redis: exits 0') or diag($err);
my $fromredis = decode_json($out);
is($fromredis->{input}{lines}, 2501, 'redis: every entry');
is($fromredis->{input}{malformed}, 1, 'redis: the entry without e');
($code, $out) = run_cmd([$mkt, 'report', '--format', 'json',
    "$dir/some.jsonl"]);
my $fromfile = decode_json($out);
is_deeply($fromredis->{experiments}, $fromfile->{experiments},
    'redis: the same experiments as from a file');
is_deeply($fromredis->{attribution}, $fromfile->{attribution},
    'redis: the same attribution');
($code, undef, $err) = run_cmd([$mkt, 'report', '--redis',
    '127.0.0.1:' . $redis->port]);
is($code, 2, 'redis: --stream is required');
($code, undef, $err) = run_cmd([$mkt, 'report', '--redis', '127.0.0.1:1',
    '--stream', 'k']);
is($code, 1, 'redis: connection refused is exit 1');
like($err, qr/cannot connect to redis/, 'redis: and said');

# --- HTML, rendered by Chromium
($code, $out) = run_cmd([$mkt, 'report', '--format', 'html', '-o',
    "$dir/report.html", "$dir/events.jsonl"]);
is($code, 0, 'html: exits 0');
my $html = read_file("$dir/report.html");
unlike($html, qr/<script|https?:\/\/|src=/i, 'no script, no external assets');
like($html, qr/<svg/, 'inline svg');

SKIP: {
    my ($has) = run_cmd(['sh', '-c', 'command -v chromium']);
    skip 'chromium is not installed', 4 if $has != 0;

    my @chrome = ('chromium', '--headless', '--no-sandbox', '--disable-gpu',
        '--no-first-run', "--user-data-dir=$dir/chrome",
        '--enable-logging=stderr', '--v=0');
    my ($c, $dom, $log) = run_cmd([@chrome, '--dump-dom',
        "file://$dir/report.html"], timeout => 120);
    is($c, 0, 'chromium rendered the page');
    my $svgs = () = $dom =~ /<svg/g;
    is($svgs, 3, 'two rate charts and the channel chart in the DOM');
    unlike($log, qr/Uncaught|CONSOLE\(\d+\)/, 'no script errors');

    run_cmd([@chrome, "--screenshot=$dir/report.png", '--window-size=1200,2000',
        "file://$dir/report.html"], timeout => 120);
    cmp_ok(-s "$dir/report.png" // 0, '>', 10000, 'a screenshot was drawn');
}

finish();

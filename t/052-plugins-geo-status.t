# Plugins, geo and mkt_status at their edges: an event hook cannot give
# an event of a request without tracking an identity; the Prometheus text
# declares every metric family once, its lines together, no series twice;
# plugins cannot reach each other's libraries; odd error values and log
# lines stay one bounded line; a status location is never tracked, even
# under "mkt on".
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;

my $SECRET = 'review-g-secret-0123456789abcdef';

my %files = (
    'exp.json' => encode_json({
        goals => ['purchase'],
        experiments => [
            { key => 'one', variations => ['a', 'b'] },
            { key => 'two-x', variations => ['c', 'd', 'e'] },
        ],
    }),
    # writes an identity into every event
    'ident.lua' => <<'EOF',
return { event = function(ev)
    ev.vid = 'injected-vid'
    ev.uid = 'injected-uid'
    ev.props.seen = 'yes'
end }
EOF
    # changes the library tables it sees, and fails in odd ways
    'meddle.lua' => <<'EOF',
return { attributes = function(ctx)
    string.upper = function() return 'PWNED' end
    table.concat = nil
    mkt.hash = function() return 'PWNED' end
    local f = ctx.query.fail
    if f == 'table' then error({}) end
    if f == 'tostring' then
        error(setmetatable({}, { __tostring = function()
            while true do end end }))
    end
    if f == 'lines' then error("one\ntwo [emerg] forged\0rest") end
    if f == 'big' then error(string.rep('E', 100000)) end
end }
EOF
    # uses them after meddle.lua ran
    'victim.lua' => <<'EOF',
return { attributes = function(ctx)
    assert(('x'):upper() == 'X' and string.upper('y') == 'Y')
    assert(table.concat({ '1', '2' }) == '12')
    assert(type(mkt.hash('s', 'v')) == 'number')
end }
EOF
);

my $ngx = start_nginx(files => \%files, allow => [qr/mkt plugin meddle: /],
                      http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;
    mkt_privacy gpc=on;
    mkt_plugin %%PREFIX%%/ident.lua;
    mkt_plugin %%PREFIX%%/meddle.lua;
    mkt_plugin %%PREFIX%%/victim.lua;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        location / { return 200 "one=\$mkt_exp_one\\n"; }
        location = /collect { mkt off; mkt_collect; }
        location = /status { mkt off; mkt_status; }
        location = /status-inherited { mkt_status; }
        location = /status-on { mkt on; mkt_status; }
    }
EOF

sub events {
    return map { decode_json($_) }
           split /\n/, read_file($ngx->prefix . '/events.jsonl') // '';
}

# --- an event of a request without tracking carries no identity -------------

my $r = request(GET => '/collect?goal=purchase',
                headers => { 'Sec-GPC' => '1' });
is($r->{status}, 204, 'GPC: the conversion is acknowledged');
my @ev = events();
is(scalar @ev, 1, 'GPC: one event written');
is_deeply([$ev[0]{type}, $ev[0]{vid}, $ev[0]{uid}, $ev[0]{props}],
          ['conversion', undef, undef, { seen => 'yes' }],
          'GPC: the plugin enriched it, but its vid and uid were not taken');

$r = request(GET => '/collect?goal=purchase');
@ev = events();
is_deeply([$ev[-1]{vid}, $ev[-1]{uid}], ['injected-vid', 'injected-uid'],
          'tracking permitted: an event hook may still change the ids');

# --- the sandbox: one plugin's library changes are its own -----------------

my $s0 = decode_json(request(GET => '/status')->{body});
for my $f (qw(none table tostring lines big)) {
    $r = request(GET => "/?fail=$f");
    is($r->{status}, 200, "meddle fails with $f: served");
}
my $s = decode_json(request(GET => '/status')->{body});
is_deeply([map { $s->{plugins}{meddle}{$_} - $s0->{plugins}{meddle}{$_} }
           qw(errors budget)], [4, 0],
          'four errors (a table\'s __tostring is not run), no budget');
is_deeply($s->{plugins}{victim}{errors}, 0,
          'victim.lua never failed: its string, table and mkt are intact');

my @lines = grep { /mkt plugin meddle: attributes\(\) failed/ }
            split /\n/, $ngx->error_log;
ok(!grep({ /^two|^rest/ } split /\n/, $ngx->error_log),
   'an error message with a newline or a NUL stays on its line');
ok(!grep({ length($_) > 1024 } @lines), 'error lines are bounded');

# --- Prometheus: every family once, together; no series twice --------------

request(GET => '/') for 1 .. 4;
my $prom = request(GET => '/status?format=prometheus')->{body};
my $json = decode_json(request(GET => '/status')->{body});

my (%help, %type, %series, @order, @bad);
for my $line (split /\n/, $prom) {
    if ($line =~ /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) /) {
        push @bad, "second $1 for $2" if ($1 eq 'HELP' ? \%help : \%type)
                                         ->{$2}++;
        push @order, $2 unless @order && $order[-1] eq $2;
        next;
    }
    if ($line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? \S+$/) {
        my $id = $1 . ($2 // '');
        push @bad, "series twice: $id" if $series{$id}++;
        push @bad, "sample before its TYPE: $1" unless $type{$1};
        push @order, $1 unless @order && $order[-1] eq $1;
        next;
    }
    push @bad, "not a line of the format: $line";
}
my %groups;
$groups{$_}++ for @order;
push @bad, map { "family in pieces: $_" }
           grep { $groups{$_} > 1 } sort keys %groups;
is_deeply(\@bad, [], "the Prometheus text is valid") or diag(join "\n", @bad);

my ($total) = $prom =~ /^mkt_exposures_total (\d+)$/m;
is($total, $json->{exposures}, 'mkt_exposures_total: the JSON exposures');
my $labelled = 0;
$labelled += $1 while $prom =~
    /^mkt_exposures_total\{experiment="[^"]+",variation="[^"]+"\} (\d+)$/mg;
my $from_json = 0;
for my $e (values %{$json->{experiments}}) {
    $from_json += $_ for values %{$e->{exposures}};
}
is($labelled, $from_json, 'and per experiment and variation, as in JSON');
like($prom, qr/^mkt_srm_p_value\{experiment="two-x"\} /m, 'SRM per experiment');

# --- a status page is not a page view, even where mkt is on ----------------

my $before = decode_json(request(GET => '/status')->{body});
my $nevents = scalar(() = events());
for my $loc (qw(/status-inherited /status-on)) {
    $r = request(GET => $loc);
    is($r->{status}, 200, "$loc: the counters");
    ok(!exists $r->{headers}{'set-cookie'}, "$loc: no cookie set");
}
my $after = decode_json(request(GET => '/status')->{body});
is_deeply([@{$after}{qw(requests new_visitors cookies_set assignments
                        exposures)}],
          [@{$before}{qw(requests new_visitors cookies_set assignments
                         exposures)}],
          'scrapes under "mkt on": no request, visitor, cookie or exposure');
is(scalar(() = events()), $nevents, 'and no event');

finish();

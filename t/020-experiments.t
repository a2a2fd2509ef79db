# Experiments from mkt_config: assignment as GrowthBook computes it, the
# variables, namespaces, holdout, schedule, match, stopped winners, sticky
# buckets across a weight change, QA forcing, and config errors.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use MIME::Base64 qw(decode_base64url encode_base64url);
use Digest::SHA qw(hmac_sha256);
use Mkt::Test;

my $SECRET = 'exp-secret-0123456789abcdef';
my $J = JSON::PP->new->canonical;

# GrowthBook's hash, version 2, written here independently of src/hash.c
sub fnv32a {
    my $h = 0x811c9dc5;
    for my $c (unpack 'C*', $_[0]) {
        $h ^= $c;
        $h = ($h * 0x01000193) % 4294967296;
    }
    return $h;
}
sub gb_hash2 { (fnv32a('' . fnv32a($_[0] . $_[1])) % 10000) / 10000 }
# GrowthBook inNamespace(id, [ns, ...]): hash("__" . ns, id, 1)
sub gb_ns { (fnv32a($_[1] . '__' . $_[0]) % 1000) / 1000 }
# a _mkt_sb entry's FP of "attribute||value" (src/sticky.h)
sub sticky_fp { fnv32a("$_[0]||$_[1]") % 1296 }

# The entries of an "s3." _mkt_sb (src/sticky.h): 4 bytes id, 2 name hash,
# a tag (variation; FP, DAY, BV follow), each field carried over from the
# entry before unless written.
sub s3_entries {
    my ($b64) = ($_[0] // '') =~ /\As3\.([A-Za-z0-9_-]+)\./ or return;
    my $raw = decode_base64url($b64);
    my ($fp, $day, $bv, @e) = (0, 0, 0);
    while (length $raw) {
        my ($id, $vh, $tag) = unpack 'N n C', substr($raw, 0, 7, '');
        $fp = unpack 'n', substr($raw, 0, 2, '') if $tag & 0x20;
        $day = unpack 'n', substr($raw, 0, 2, '') if $tag & 0x40;
        $bv = unpack 'N', "\0" . substr($raw, 0, 3, '') if $tag & 0x80;
        push @e, { id => $id, vh => $vh, var => $tag & 0x1f, fp => $fp,
                   day => $day, bv => $bv };
    }
    return @e;
}

# An "s2." _mkt_sb (the format before) of one hero-2026q4 entry, signed.
sub s2_cookie {
    my ($vid, $var, $name, $day) = @_;
    my $b36 = sub {
        my ($v, $n) = @_;
        my $s = '';
        for (1 .. $n) {
            $s = substr('0123456789abcdefghijklmnopqrstuvwxyz', $v % 36, 1)
                . $s;
            $v = int($v / 36);
        }
        return $s;
    };
    my $body = 's2.' . $b36->(fnv32a('hero-2026q4') % 36**6, 6)
        . $b36->(sticky_fp('id', $vid), 2) . $var
        . $b36->(fnv32a($name) % 46656, 3) . $b36->($day, 3) . '0';
    return "$body."
        . substr(encode_base64url(hmac_sha256($body, $SECRET)), 0, 16);
}

sub experiments {
    my (%o) = @_;
    my $hero = { key => 'hero-2026q4', hashVersion => 2,
        variations => ['control', 'new-hero'],
        weights => $o{weights} // [0.5, 0.5],
        (defined $o{bv} ? (bucketVersion => $o{bv}) : ()),
        match => { path => '^/landing/' } };
    # $o{many} experiments m0, m1, ... on /many
    my @many = map { { key => "m$_", variations => ['a', 'b'],
        weights => $o{many_weights}, match => { path => '^/many' } } }
        0 .. ($o{many} // 0) - 1;
    return $J->encode({
        goals => ['signup'],
        holdout => { key => 'global-holdout', coverage => $o{holdout} // 0 },
        experiments => [
            $hero,
            { key => 'ns-a', hashVersion => 2, variations => ['a0', 'a1'],
              namespace => ['pair', 0, 0.5], match => { path => '^/ns' } },
            { key => 'ns-b', hashVersion => 2, variations => ['b0', 'b1'],
              namespace => ['pair', 0.5, 1], match => { path => '^/ns' } },
            { key => 'future', variations => ['x', 'y'],
              start => '2099-01-01T00:00:00Z', match => { path => '^/sched' } },
            { key => 'past', variations => ['x', 'y'],
              end => '2001-01-01T00:00:00Z', match => { path => '^/sched' } },
            { key => 'won', status => 'stopped', winner => 'w2',
              variations => ['w1', 'w2'], match => { path => '^/won' } },
            { key => 'host-only', variations => ['h0', 'h1'],
              match => { host => 'www.example.com', path => '^/landing/' } },
            { key => 'by-query', variations => ['q0', 'q1'],
              condition => { 'query.ch' => 'xhs01', device => 'mobile' },
              match => { path => '^/cond' } },
            { key => 'by-q', variations => ['p0', 'p1'],
              condition => { 'query.q' => 'a b?c+d' },
              match => { path => '^/plus' } },
            { key => 'by-header', variations => ['h0', 'h1'],
              condition => { 'header.X-Tier' => { '$in' => ['gold'] } },
              match => { path => '^/cond' } },
            @many,
        ],
    });
}

my $ngx = start_nginx(
    files => { 'exp.json' => experiments() },
    http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_qa_token "qa-token-123";

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost www.example.com;
        mkt on;
        mkt_qa 127.0.0.1/32;
        mkt_user_id \$http_x_user_id;

        location / {
            add_header X-Hero \$mkt_exp_hero_2026q4 always;
            add_header X-Host-Only \$mkt_exp_host_only always;
            add_header X-A \$mkt_exp_ns_a always;
            add_header X-B \$mkt_exp_ns_b always;
            add_header X-Q \$mkt_exp_by_query always;
            add_header X-H \$mkt_exp_by_header always;
            add_header X-P \$mkt_exp_by_q always;
            add_header X-All \$mkt_experiments always;
            add_header X-CK \$mkt_cache_key always;
            add_header X-Vid \$mkt_vid always;
            return 200 "ok\\n";
        }

        location = /mkt/status {
            mkt off;
            mkt_status;
        }
    }

    # a second server without mkt_qa: only the token may force
    server {
        listen 127.0.0.1:%%PORT2%%;
        mkt on;
        location / {
            add_header X-Hero \$mkt_exp_hero_2026q4 always;
            return 204;
        }
    }
EOF

sub status { decode_json(request('GET', '/mkt/status')->{body}) }
sub hdr { my ($res, $h) = @_; $res->{headers}{$h} // '' }

# --- assignment matches GrowthBook's hash, and is stable -------------------
my %seen;
my @visitors;
for my $i (1 .. 30) {
    my $jar = new_jar();
    my $res = request('GET', '/landing/x', jar => $jar);
    my $vid = hdr($res, 'x-vid');
    my $want = gb_hash2('hero-2026q4', $vid) < 0.5 ? 'control' : 'new-hero';
    is hdr($res, 'x-hero'), $want, "visitor $i: variation as GrowthBook "
        . 'hashes it';
    is hdr($res, 'x-all'), "hero-2026q4:$want", '$mkt_experiments';
    $seen{$want}++;
    push @visitors, { jar => $jar, vid => $vid, var => $want,
        ck => hdr($res, 'x-ck') };
}
is scalar keys %seen, 2, 'both variations occur';
my $v0 = $visitors[0];
is hdr(request('GET', '/landing/y', jar => $v0->{jar}), 'x-hero'), $v0->{var},
    'the same visitor gets the same variation again';

my ($same) = grep { $_->{var} eq $v0->{var} } @visitors[1 .. $#visitors];
my ($other) = grep { $_->{var} ne $v0->{var} } @visitors;
like $v0->{ck}, qr/\A[A-Za-z0-9_-]{11}\z/, '$mkt_cache_key is 11 chars';
is $same->{ck}, $v0->{ck}, 'equal decisions give equal cache keys';
isnt $other->{ck}, $v0->{ck}, 'different decisions, different keys';
my $res = request('GET', '/nowhere', jar => new_jar());
is hdr($res, 'x-all'), '', 'outside every experiment: no assignments';
is hdr($res, 'x-ck'), '', 'and an empty cache key';
is hdr($res, 'x-hero'), '', 'and $mkt_exp_ is empty';

# --- sticky buckets --------------------------------------------------------
ok defined $v0->{jar}->cookie('_mkt_sb'), 'assignment stored in _mkt_sb';
like $v0->{jar}->cookie('_mkt_sb'),
    qr/\As3\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\z/,
    '_mkt_sb is a signed s3. value';
is_deeply [s3_entries($v0->{jar}->cookie('_mkt_sb'))],
    [{ id => fnv32a('hero-2026q4') % 36**6, vh => fnv32a($v0->{var}) % 46656,
       var => $v0->{var} eq 'control' ? 0 : 1,
       fp => sticky_fp('id', $v0->{vid}), day => int(time / 86400),
       bv => 0 }],
    'its entry: experiment, variation, visitor, exposure day';

# a control visitor whose bucket moves to new-hero under weights 0.01/0.99
my ($ctl) = grep { $_->{var} eq 'control'
    && gb_hash2('hero-2026q4', $_->{vid}) >= 0.01 } @visitors;
ok $ctl, 'found a control visitor to move';
$ngx->reload(files => { 'exp.json' => experiments(weights => [0.01, 0.99]) });
is hdr(request('GET', '/landing/x', jar => $ctl->{jar}), 'x-hero'), 'control',
    'raising a weight does not move a visitor already assigned';
my $nosticky = new_jar();
$nosticky->set('_mkt', $ctl->{jar}->cookie('_mkt'));
is hdr(request('GET', '/landing/x', jar => $nosticky), 'x-hero'), 'new-hero',
    'without the sticky cookie the new weights apply';

$ngx->reload(files => { 'exp.json' => experiments(weights => [0.01, 0.99],
    bv => 1) });
is hdr(request('GET', '/landing/x', jar => $ctl->{jar}), 'x-hero'), 'new-hero',
    'raising bucketVersion re-buckets the visitor';
$ngx->reload(files => { 'exp.json' => experiments() });

# --- an "s2." _mkt_sb (set before "s3."): read, written as "s3." next time
{
    my $jar = new_jar();
    my $r = request('GET', '/landing/x', jar => $jar);
    my ($vid, $got) = (hdr($r, 'x-vid'), hdr($r, 'x-hero'));
    my ($idx, $name) = $got eq 'control' ? (1, 'new-hero') : (0, 'control');

    # the variation hashing did not give, exposed today: nothing to write
    $jar->set('_mkt_sb', s2_cookie($vid, $idx, $name, int(time / 86400)));
    $r = request('GET', '/landing/x', jar => $jar);
    is hdr($r, 'x-hero'), $name, 'an s2. sticky cookie is honoured';
    is scalar(grep {/\A_mkt_sb=/} header_all($r, 'set-cookie')), 0,
        'and not rewritten when nothing changed';

    # never exposed: the exposure rewrites it, as s3.
    $jar->set('_mkt_sb', s2_cookie($vid, $idx, $name, 0));
    $r = request('GET', '/landing/x', jar => $jar);
    is hdr($r, 'x-hero'), $name, 'an s2. cookie of no exposure is honoured';
    is_deeply [s3_entries($jar->cookie('_mkt_sb'))],
        [{ id => fnv32a('hero-2026q4') % 36**6, vh => fnv32a($name) % 46656,
           var => $idx, fp => sticky_fp('id', $vid),
           day => int(time / 86400), bv => 0 }],
        'and rewritten as s3. with the same entry, exposed today';
    $r = request('GET', '/landing/x', jar => $jar);
    is hdr($r, 'x-hero'), $name, 'which the next request keeps';
    is scalar(grep {/\A_mkt_sb=/} header_all($r, 'set-cookie')), 0,
        'without rewriting it';
}

# --- namespaces: a pair never overlaps -------------------------------------
my ($in_a, $in_b) = (0, 0);
for my $i (1 .. 40) {
    my $r = request('GET', '/ns', jar => new_jar());
    my ($a, $b) = (hdr($r, 'x-a'), hdr($r, 'x-b'));
    ok(($a eq '') != ($b eq ''), "visitor $i is in exactly one of the pair")
        or diag "a=$a b=$b";
    $in_a++ if $a ne '';
    $in_b++ if $b ne '';
}
ok $in_a && $in_b, "both halves of the namespace used ($in_a/$in_b)";

# an anonymous visitor in ns-a logs in as a user whom the pair puts in ns-b
my $user = 'user-2';
ok gb_ns('pair', $user) >= 0.5, "$user is in ns-b's half";
my ($anon, $anon_vid);
for (1 .. 100) {
    my $jar = new_jar();
    my $r = request('GET', '/ns', jar => $jar);
    my $vid = hdr($r, 'x-vid');
    if (hdr($r, 'x-a') ne ''
        && sticky_fp('id', $vid) != sticky_fp('id', $user))
    {
        ($anon, $anon_vid) = ($jar, $vid);
        last;
    }
}
ok $anon, 'found an anonymous visitor in ns-a';
$res = request('GET', '/ns', jar => $anon, headers => ['X-User-Id' => $user]);
is hdr($res, 'x-a'), '', 'after login, not in ns-a: its assignment was for '
    . 'the visitor id';
like hdr($res, 'x-b'), qr/\Ab[01]\z/, 'but in ns-b, as the user id hashes';
$res = request('GET', '/ns', jar => $anon);
like hdr($res, 'x-a'), qr/\Aa[01]\z/, 'logged out, in ns-a again';
is hdr($res, 'x-b'), '', 'and not in ns-b';

# two users of one browser each get their own variation
my ($u1, $u2) = ('user-1', 'user-2');
my %want = map { $_ => gb_hash2('hero-2026q4', $_) < 0.5 ? 'control'
    : 'new-hero' } $u1, $u2;
isnt $want{$u1}, $want{$u2}, "$u1 and $u2 hash to different variations";
my $shared = new_jar();
for my $u ($u1, $u2, $u1) {
    is hdr(request('GET', '/landing/x', jar => $shared,
        headers => ['X-User-Id' => $u]), 'x-hero'), $want{$u},
        "on a shared browser, $u gets $want{$u}";
}

# --- schedule, stopped winner, host match ----------------------------------
$res = request('GET', '/sched', jar => new_jar());
is hdr($res, 'x-all'), '', 'not started and ended experiments assign nobody';
for (1 .. 5) {
    is hdr(request('GET', '/won', jar => new_jar()), 'x-all'), 'won:w2',
        'a stopped experiment gives everyone its winner';
}
$res = request('GET', '/landing/x', jar => new_jar(),
    host => 'www.example.com');
like hdr($res, 'x-host-only'), qr/\Ah[01]\z/, 'match.host matches';
$res = request('GET', '/landing/x', jar => new_jar());
is hdr($res, 'x-host-only'), '', 'another host does not';

# --- conditions on query, device and header --------------------------------
my $mobile = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) '
    . 'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 '
    . 'Safari/604.1';
$res = request('GET', '/cond?ch=xhs01', jar => new_jar(),
    headers => ['User-Agent' => $mobile]);
like hdr($res, 'x-q'), qr/\Aq[01]\z/, 'query.ch and device condition true';
$res = request('GET', '/cond?ch=xhs01', jar => new_jar());
is hdr($res, 'x-q'), '', 'desktop: condition false';
$res = request('GET', '/cond?ch=%78hs01', jar => new_jar(),
    headers => ['User-Agent' => $mobile]);
like hdr($res, 'x-q'), qr/\Aq[01]\z/, 'query values are percent-decoded';
$res = request('GET', '/cond', jar => new_jar(),
    headers => ['x-tier' => 'gold']);
like hdr($res, 'x-h'), qr/\Ah[01]\z/, 'header.X-Tier condition true for an x-tier header';
is hdr($res, 'x-q'), '', 'and the query condition false';

$res = request('GET', '/plus?q=a+b%3Fc%2Bd', jar => new_jar());
like hdr($res, 'x-p'), qr/\Ap[01]\z/,
    'query values: "+" a space, %3F a "?", %2B a "+"';
$res = request('GET', '/plus?q=a+b?c%2Bd', jar => new_jar());
like hdr($res, 'x-p'), qr/\Ap[01]\z/, 'a raw "?" inside a value is kept';

# --- QA forcing ------------------------------------------------------------
my $before = status();
my $qa = new_jar();
$res = request('GET', '/landing/x', jar => $qa);
my $natural = hdr($res, 'x-hero');
my $flip = $natural eq 'control' ? 'new-hero' : 'control';
$res = request('GET', "/landing/x?mkt_force=hero-2026q4:$flip", jar => $qa);
is hdr($res, 'x-hero'), $flip, 'mkt_qa address forces a variation';
is hdr(request('GET', '/landing/x', jar => $qa), 'x-hero'), $natural,
    'forcing is not stored: the next request is back to normal';

my $port2 = $ngx->port(2);
my $u = "http://127.0.0.1:$port2/landing/x";
my $plain = new_jar();
$natural = hdr(request('GET', $u, jar => $plain), 'x-hero');
$flip = $natural eq 'control' ? 'new-hero' : 'control';
is hdr(request('GET', "$u?mkt_force=hero-2026q4:$flip", jar => $plain),
    'x-hero'), $natural, 'outside mkt_qa, without a token: ignored';
is hdr(request('GET', "$u?mkt_force=hero-2026q4:$flip", jar => $plain,
    headers => ['X-Mkt-QA-Token' => 'wrong']), 'x-hero'), $natural,
    'a wrong token is ignored';
is hdr(request('GET', "$u?mkt_force=hero-2026q4:$flip", jar => $plain,
    headers => ['X-Mkt-QA-Token' => 'qa-token-123']), 'x-hero'), $flip,
    'the token in X-Mkt-QA-Token forces';
is hdr(request('GET', "$u?mkt_force=hero-2026q4%3A$flip&mkt_qa_token="
    . 'qa-token-123', jar => $plain), 'x-hero'), $flip,
    'the token in the query forces (percent-encoded colon too)';
my $after = status();
is $after->{forced} - $before->{forced}, 3, 'forced requests counted';
is $after->{qa_denied} - $before->{qa_denied}, 2, 'denied forcing counted';

# --- holdout ---------------------------------------------------------------
$ngx->reload(files => { 'exp.json' => experiments(holdout => 0.3) });
my $held = 0;
my $N = 200;
for (1 .. $N) {
    $held++ if hdr(request('GET', '/landing/x', jar => new_jar()), 'x-all')
        eq '';
}
cmp_ok $held, '>=', $N * 0.15, "holdout 30%: $held of $N held out (>= 15%)";
cmp_ok $held, '<=', $N * 0.45, 'and <= 45%';

# --- more experiments on a page than the sticky cookie holds --------------
$ngx->reload(files => { 'exp.json' => experiments(many => 201,
    many_weights => [1, 0]) });
my $crowd = new_jar();
$res = request('GET', '/many', jar => $crowd);
is scalar(grep {/\A_mkt_sb=/} header_all($res, 'set-cookie')), 1,
    'the first visit stores assignments';
is scalar(my @entries = s3_entries($crowd->cookie('_mkt_sb'))), 150,
    'as many as the cookie holds';
$res = request('GET', '/many', jar => $crowd);
is scalar(grep {/\A_mkt_sb=/} header_all($res, 'set-cookie')), 0,
    'the next visit does not rewrite the cookie';

$ngx->reload(files => { 'exp.json' => experiments(many => 201,
    many_weights => [0, 1]) });
$res = request('GET', '/many', jar => $crowd);
my %got = map { split /:/ } split /,/, hdr($res, 'x-all');
is scalar(grep { $got{"m$_"} eq 'a' } 0 .. 149), 150,
    'after a weight change the first 150 keep their variation';
is scalar(grep { $got{"m$_"} eq 'b' } 150 .. 200), 51,
    'the rest follow the new weights';
is scalar(grep {/\A_mkt_sb=/} header_all($res, 'set-cookie')), 0,
    'and the cookie is still not rewritten';

# --- config errors ---------------------------------------------------------
my ($rc, $out) = nginx_test_config(
    files => { 'bad.json' => '{"experiments":[{"key":"a","variations":'
        . '["x","y"],"weights":[0.5,0.4]}]}' },
    http => 'mkt_config %%PREFIX%%/bad.json;');
isnt $rc, 0, 'weights not summing to 1 fail nginx -t';
like $out, qr/\[emerg\] .*bad\.json: experiments\[0\]\.weights: /,
    'the message names the file and JSON path';

($rc, $out) = nginx_test_config(
    files => { 'syntax.json' => "{\n  \"experiments\": [\n    {,\n" },
    http => 'mkt_config %%PREFIX%%/syntax.json;');
isnt $rc, 0, 'a syntax error fails nginx -t';
like $out, qr/syntax\.json:3:\d+: /, 'with line and column';

# from a config without holdout, so that every visitor is in "hero"
$ngx->reload(files => { 'exp.json' => experiments() });
my $msg = $ngx->reload(expect_fail => 1,
    files => { 'exp.json' => '{"experiments": [{"key": 1}]}' });
like $msg, qr/exp\.json: experiments\[0\]\.key: /,
    'a bad reload is refused with the path';
like hdr(request('GET', '/landing/x', jar => new_jar()), 'x-hero'),
    qr/\A(?:control|new-hero)\z/, 'and the old config keeps serving';

finish();

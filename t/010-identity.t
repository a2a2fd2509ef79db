# Visitor identity: the signed _mkt cookie, $mkt_vid/$mkt_new/$mkt_uid, and
# the mkt_status counters (DESIGN.md sections 3-5).
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use Mkt::Test;

my $SECRET = 'test-secret-0123456789abcdef';
my $VID_RE = qr/[A-Za-z0-9_-]{22}/;

# A cookie value signed here, independently of the module's code.
sub base36 {
    my ($n) = @_;
    my $s = '';
    do { $s = (0 .. 9, 'a' .. 'z')[$n % 36] . $s; $n = int($n / 36) }
        while $n > 0;
    return $s;
}

sub signed_cookie {
    my ($vid, $issued, $secret) = @_;
    my $payload = "1.$vid." . base36($issued);
    my $sig = substr encode_base64url(hmac_sha256($payload,
        $secret // $SECRET)), 0, 16;
    return "$payload.$sig";
}

sub status {
    my $res = request('GET', '/mkt/status');
    is $res->{status}, 200, 'status answers';
    return decode_json($res->{body});
}

sub mkt_cookies { grep { $_->{name} eq ($_[1] // '_mkt') }
    @{ $_[0]{set_cookies} } }

my $ngx = start_nginx(workers => 1, http => <<"EOF");
    mkt_secret "$SECRET";
    log_format ids 'vid=\$mkt_vid new=\$mkt_new uid=\$mkt_uid';
    access_log %%PREFIX%%/ids.log ids;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        mkt_user_id \$http_x_user;

        location / {
            add_header X-Vid \$mkt_vid always;
            add_header X-New \$mkt_new always;
            add_header X-Uid \$mkt_uid always;
            return 200 "ok\\n";
        }

        location = /set {
            set \$copy "v=\$mkt_vid";
            if (\$mkt_new = "1") {
                return 200 "\$copy new\\n";
            }
            return 200 "\$copy old\\n";
        }

        location = /proxy {
            proxy_set_header X-Visitor \$mkt_vid;
            proxy_pass http://127.0.0.1:%%PORT%%/echo;
        }

        location = /echo {
            mkt off;
            add_header Set-Cookie "_mkt=from-upstream; Path=/";
            add_header Set-Cookie "other=1; Path=/";
            return 200 "backend got \$http_x_visitor\\n";
        }

        location = /tryfiles {
            try_files /nonexistent \@named;
        }

        location \@named {
            add_header X-Vid \$mkt_vid always;
            return 200 "named \$mkt_vid\\n";
        }

        location = /errpage {
            error_page 404 = /fallback;
            return 404;
        }

        location = /fallback {
            add_header X-Vid \$mkt_vid always;
            return 200 "fallback \$mkt_vid\\n";
        }

        location = /off {
            mkt off;
            add_header X-Vid "[\$mkt_vid]" always;
            return 200 "off\\n";
        }

        location = /mkt/status {
            mkt off;
            mkt_status;
        }
    }

    server {
        listen 127.0.0.1:%%PORT2%%;
        mkt on;
        mkt_cookie name=sid domain=.example.com path=/shop max_age=1h
                   secure=on samesite=strict httponly=off;
        location / {
            add_header X-Vid \$mkt_vid always;
            add_header X-New \$mkt_new always;
            return 204;
        }
    }

    server {
        listen 127.0.0.1:%%PORT3%%;
        mkt on;
        # answered in the server rewrite phase, before any location
        return 302 /elsewhere;
    }
EOF

my $port2 = $ngx->port(2);
my $port3 = $ngx->port(3);

# --- first visit -----------------------------------------------------------
my $jar = new_jar();
my $t0 = time;
my $res = request('GET', '/', jar => $jar);
is $res->{status}, 200, 'first visit served';
my @sc = mkt_cookies($res);
is scalar @sc, 1, 'first visit: exactly one _mkt Set-Cookie';
my ($vid, $issued36, $sig) = $sc[0]{value} =~
    /\A1\.($VID_RE)\.([0-9a-z]{1,8})\.([A-Za-z0-9_-]{16})\z/;
ok $vid, "cookie value has the form 1.VID.ISSUED.SIG: $sc[0]{value}";
my $issued = 0;
$issued = $issued * 36 + index('0123456789abcdefghijklmnopqrstuvwxyz', $_)
    for split //, $issued36 // '';
cmp_ok abs($issued - $t0), '<=', 5, 'issue time is now';
is $sc[0]{value}, signed_cookie($vid, $issued),
    'signature is HMAC-SHA256(secret, "1.VID.ISSUED"), first 16 b64url chars';
is $sc[0]{raw}, "_mkt=$sc[0]{value}; Max-Age=34560000; Path=/; HttpOnly; "
    . 'SameSite=Lax', 'default attributes, no Secure over plain HTTP';
is $res->{headers}{'x-vid'}, $vid, '$mkt_vid in add_header is the cookie id';
is $res->{headers}{'x-new'}, '1', '$mkt_new is 1 on the first visit';
ok !exists $res->{headers}{'x-uid'}, '$mkt_uid empty without a user id';

# --- returning visit -------------------------------------------------------
$res = request('GET', '/', jar => $jar);
is $res->{headers}{'x-vid'}, $vid, 'returning visit keeps the id';
is $res->{headers}{'x-new'}, '0', '$mkt_new is 0 when returning';
is scalar(mkt_cookies($res)), 0, 'no Set-Cookie for a fresh cookie';

$res = request('GET', '/set', jar => $jar);
is $res->{body}, "v=$vid old\n", '"set" and "if" see the final values';
$res = request('GET', '/set');
like $res->{body}, qr/\Av=$VID_RE new\n\z/, '"if" sees $mkt_new = 1';

my $good_before_proxy = $jar->cookie('_mkt');

# --- the id reaches proxy_set_header, named locations, error_page, logs ----
$res = request('GET', '/proxy', jar => $jar);
is $res->{body}, "backend got $vid\n", 'proxy_set_header sends $mkt_vid';
is scalar(mkt_cookies($res)), 0, 'an upstream _mkt cookie is dropped';
is $jar->cookie('_mkt'), $good_before_proxy, 'the visitor keeps the id';

my $fresh = request('GET', '/proxy');
my @fc = mkt_cookies($fresh);
is scalar @fc, 1, 'an upstream _mkt cookie never makes a second Set-Cookie';
like $fc[0]{value}, qr/\A1\.$VID_RE\./, 'the one sent is the module\'s';
is scalar(grep { $_->{name} eq 'other' } @{ $fresh->{set_cookies} }), 1,
    'other upstream cookies pass through';

$res = request('GET', '/tryfiles');
@sc = mkt_cookies($res);
is scalar @sc, 1, 'try_files to a named location: one Set-Cookie';
my ($tvid) = ($sc[0]{value} // '') =~ /\A1\.($VID_RE)\./;
is $res->{body}, "named $tvid\n", 'the named location sees the same id';
is $res->{headers}{'x-vid'}, $tvid, 'and so does its add_header';

$res = request('GET', '/errpage');
@sc = mkt_cookies($res);
is scalar @sc, 1, 'error_page redirect: one Set-Cookie';
($tvid) = ($sc[0]{value} // '') =~ /\A1\.($VID_RE)\./;
is $res->{body}, "fallback $tvid\n", 'error_page target sees the same id';

$res = request('GET', '/off', jar => $jar);
is $res->{headers}{'x-vid'}, '[]', 'mkt off: $mkt_vid is empty';
is scalar(mkt_cookies(request('GET', '/off'))), 0, 'mkt off: no cookie';

# --- user id ---------------------------------------------------------------
$res = request('GET', '/', jar => $jar, headers => ['X-User' => 'u42']);
is $res->{headers}{'x-uid'}, 'u42', '$mkt_uid from mkt_user_id';
$res = request('GET', '/', jar => $jar,
    headers => ['X-User' => "u\x01\x7f" . ('x' x 300)]);
is $res->{headers}{'x-uid'}, 'u' . ('x' x 127),
    '$mkt_uid: control characters dropped, cut to 128 bytes';

ok wait_for(sub { (read_file($ngx->prefix . '/ids.log') // '')
    =~ /^vid=$vid new=0 uid=u42$/m }), 'log_format writes $mkt_vid, $mkt_new '
    . 'and $mkt_uid';

# --- rejected cookies: a new id each, counted by reason --------------------
my $before = status();
my $good = $jar->cookie('_mkt');
(my $tampered_vid = $good) =~ s/\A1\.(.)/'1.' . ($1 eq 'A' ? 'B' : 'A')/e;
my %bad = (
    tampered_vid  => [$tampered_vid, 'bad_cookies_signature'],
    tampered_sig  => [substr($good, 0, -1) . (substr($good, -1) eq 'A'
        ? 'B' : 'A'), 'bad_cookies_signature'],
    other_secret  => [signed_cookie($vid, $issued, 'another secret 0123'),
        'bad_cookies_signature'],
    unsigned      => ["1.$vid.$issued36", 'bad_cookies_unsigned'],
    garbled       => ["\x{1}\x{7f}garbage;;==", 'bad_cookies_malformed'],
    wrong_version => ['2' . substr($good, 1), 'bad_cookies_malformed'],
    oversized     => ['1.' . ('A' x 200), 'bad_cookies_oversized'],
    future        => [signed_cookie($vid, time + 3600),
        'bad_cookies_future'],
    # max_age (400 days by default) and a day, and a minute
    expired       => [signed_cookie($vid, time - 401 * 86400 - 60),
        'bad_cookies_expired'],
);
my %want;
for my $case (sort keys %bad) {
    my ($value, $counter) = @{ $bad{$case} };
    my $r = request('GET', '/', headers => ['Cookie' => "_mkt=$value"]);
    isnt $r->{headers}{'x-vid'}, $vid, "$case: not accepted as the old id";
    like $r->{headers}{'x-vid'} // '', qr/\A$VID_RE\z/, "$case: a new id";
    is $r->{headers}{'x-new'}, '1', "$case: \$mkt_new = 1";
    is scalar(mkt_cookies($r)), 1, "$case: a new cookie is set";
    $want{$counter}++;
}
my $after = status();
is $after->{bad_cookies} - $before->{bad_cookies}, scalar keys %bad,
    'bad_cookies counts every rejection';
for my $c (qw(bad_cookies_signature bad_cookies_unsigned
    bad_cookies_malformed bad_cookies_oversized bad_cookies_future
    bad_cookies_expired))
{
    is $after->{$c} - $before->{$c}, $want{$c} // 0, "$c counted exactly";
}
is $after->{new_visitors} - $before->{new_visitors}, scalar keys %bad,
    'each rejection minted a visitor';

# a bad duplicate beside a good cookie: the good one wins, nothing counted
$before = status();
$res = request('GET', '/', headers => ['Cookie' => "_mkt=junk; _mkt=$good"]);
is $res->{headers}{'x-vid'}, $vid, 'a valid cookie wins over a broken twin';
$after = status();
is $after->{bad_cookies}, $before->{bad_cookies}, 'and nothing is rejected';

# the Cookie header found in one pass for all the module's names: split
# over several headers, repeated past what is kept of one name, and names
# that only contain ours
$res = request('GET', '/', headers => ['Cookie' => 'a=1; _mkt=junk',
    'Cookie' => "x_mkt=junk; _mkt=$good"]);
is $res->{headers}{'x-vid'}, $vid, 'a valid cookie in a second Cookie header';
is scalar(mkt_cookies($res)), 0, 'and it is not re-issued';
$res = request('GET', '/', headers => ['Cookie' => join('; ',
    map({ "_mkt=junk$_" } 1 .. 6), "_mkt=$good")]);
is $res->{headers}{'x-vid'}, $vid, 'a valid cookie after six broken twins';
$before = status();
$res = request('GET', '/', headers => ['Cookie' => "x_mkt=$good; "
    . "_mkt_x=$good; _MKT=$good; _mkt_sb=$good", 'Cookie' => "mkt=$good"]);
isnt $res->{headers}{'x-vid'}, $vid, 'names containing _mkt are not _mkt';
is $res->{headers}{'x-new'}, '1', 'so the visitor is new';
$after = status();
is $after->{bad_cookies}, $before->{bad_cookies},
    'and none of them was read as a bad _mkt';

# --- daily refresh ---------------------------------------------------------
my $old = signed_cookie($vid, time - 2 * 86400);
$res = request('GET', '/', headers => ['Cookie' => "_mkt=$old"]);
is $res->{headers}{'x-vid'}, $vid, 'a two-day-old cookie keeps the id';
is $res->{headers}{'x-new'}, '0', 'and is not new';
@sc = mkt_cookies($res);
is scalar @sc, 1, 'it is re-issued to extend max-age';
my ($rvid, $r36) = ($sc[0]{value} // '') =~ /\A1\.($VID_RE)\.([0-9a-z]+)\./;
is $rvid, $vid, 're-issued with the same id';
cmp_ok abs(base36_decode($r36) - time), '<=', 5, 'and a new issue time';

my $recent = signed_cookie($vid, time - 3600);
$res = request('GET', '/', headers => ['Cookie' => "_mkt=$recent"]);
is scalar(mkt_cookies($res)), 0, 'an hour-old cookie is not re-issued';

# --- server-side age: max_age and a day ------------------------------------
# a cookie a minute short of the limit still is the visitor (a browser
# could hold it), and is re-issued; the expired one above was refused
my $old_ok = signed_cookie($vid, time - 401 * 86400 + 60);
$before = status();
$res = request('GET', '/', headers => ['Cookie' => "_mkt=$old_ok"]);
is $res->{headers}{'x-vid'}, $vid, 'max_age + 1 day - 1 min old: the same id';
@sc = mkt_cookies($res);
($rvid, $r36) = ($sc[0]{value} // '') =~ /\A1\.($VID_RE)\.([0-9a-z]+)\./;
is $rvid, $vid, 'and re-issued with it';
cmp_ok abs(base36_decode($r36) - time), '<=', 5, 'with a new issue time';
$after = status();
is $after->{bad_cookies_expired} - $before->{bad_cookies_expired}, 0,
    'not counted as expired';
is $after->{cookies_refreshed} - $before->{cookies_refreshed}, 1,
    'counted as refreshed';

# the limit follows the server's mkt_cookie max_age (1h on port 2)
for my $case ([60, 1, 'a minute past 1h + 1 day: a new id'],
              [-60, 0, 'a minute short of 1h + 1 day: the same id'])
{
    my ($past, $new, $name) = @$case;
    $before = status();
    my $v = signed_cookie($vid, time - 3600 - 86400 - $past);
    $res = request('GET', "http://127.0.0.1:$port2/shop",
                   headers => ['Cookie' => "sid=$v"]);
    is $res->{headers}{'x-new'}, $new, "max_age=1h: $name";
    is $res->{headers}{'x-vid'} eq $vid ? 1 : 0, 1 - $new,
        "max_age=1h: $name (the id)";
    $after = status();
    is $after->{bad_cookies_expired} - $before->{bad_cookies_expired}, $new,
        "max_age=1h: $name (bad_cookies_expired)";
}

sub base36_decode {
    my $n = 0;
    $n = $n * 36 + index('0123456789abcdefghijklmnopqrstuvwxyz', $_)
        for split //, $_[0] // '';
    return $n;
}

# --- mkt_cookie attributes -------------------------------------------------
$res = request('GET', "http://127.0.0.1:$port2/shop");
@sc = mkt_cookies($res, 'sid');
is scalar @sc, 1, 'mkt_cookie name= names the cookie';
like $sc[0]{raw}, qr/\Asid=1\.$VID_RE\.[0-9a-z]+\.[A-Za-z0-9_-]{16}; /,
    'custom cookie carries a signed value';
(my $attrs = $sc[0]{raw}) =~ s/\A[^;]*//;
is $attrs, '; Max-Age=3600; Domain=.example.com; Path=/shop; '
    . 'SameSite=Strict; Secure', 'domain, path, max_age, secure, samesite, '
    . 'httponly=off';
is scalar(mkt_cookies($res)), 0, 'no _mkt cookie from that server';

# --- a response made before any location still carries the cookie ---------
$res = request('GET', "http://127.0.0.1:$port3/");
is $res->{status}, 302, 'server-level return';
is scalar(mkt_cookies($res)), 1, 'the header filter sets the cookie';

# --- status formats --------------------------------------------------------
my $json = status();
is $json->{version}, '0.1.0', 'status reports the version';
for my $k (qw(requests new_visitors returning_visitors bad_cookies
    cookies_set cookies_refreshed known_users id_failures))
{
    like $json->{$k}, qr/\A\d+\z/, "status has counter $k";
}
is $json->{cookies_refreshed}, 3,
    'three refreshes so far: two days old, and two just inside the age limit';
is $json->{id_failures}, 0, 'no id failures';

$res = request('GET', '/mkt/status?format=prometheus');
is $res->{status}, 200, 'prometheus format answers';
like $res->{headers}{'content-type'}, qr{\Atext/plain; version=0\.0\.4},
    'prometheus content type';
like $res->{body}, qr/^# HELP mkt_requests_total .+\n# TYPE mkt_requests_total counter\nmkt_requests_total (\d+)$/m,
    'HELP, TYPE and value lines';
my ($prom_bad) = $res->{body} =~ /^mkt_bad_cookies_total (\d+)$/m;
is $prom_bad, $json->{bad_cookies}, 'prometheus and JSON agree';
is request('GET', '/mkt/status?format=xml')->{status}, 400,
    'unknown format is a 400';
is request('POST', '/mkt/status')->{status}, 405, 'POST is not allowed';

finish();

# Privacy (mkt_privacy): Sec-GPC, DNT and a consent value switch tracking
# off for that very request: no Set-Cookie, no visitor or user id, every
# experiment's control (or a stopped one's winner), every slot's default;
# counted anonymously.  Bots get decisions and an id that is never
# renewed; prefetches are counted.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);
use Mkt::Test;

my $SECRET = 'privacy-secret-0123456789abcdef';

# a visitor cookie signed here, independently of the module's code
sub signed_cookie {
    my ($vid, $issued) = @_;
    my ($n, $b36) = ($issued, '');
    do { $b36 = (0 .. 9, 'a' .. 'z')[$n % 36] . $b36; $n = int($n / 36) }
        while $n > 0;
    my $payload = "1.$vid.$b36";
    return "$payload."
        . substr(encode_base64url(hmac_sha256($payload, $SECRET)), 0, 16);
}

my $exp = encode_json({
    experiments => [
        { key => 'always-t', variations => ['control', 'treatment'],
          weights => [0, 1] },
        { key => 'won', status => 'stopped', winner => 'w2',
          variations => ['w1', 'w2'] },
    ],
    slots => [
        { key => 'hero', variants => ['generic', 'mobile'],
          rules => [{ if => { device => 'mobile' }, variant => 'mobile' }],
          default => 'generic' },
    ],
});

sub http {
    my ($privacy) = @_;
    $privacy = $privacy ? "mkt_privacy $privacy;" : '';
    return <<"EOF";
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        $privacy
        mkt_user_id \$http_x_user_id;

        location / {
            add_header X-Vid \$mkt_vid always;
            add_header X-Uid \$mkt_uid always;
            add_header X-T \$mkt_exp_always_t always;
            add_header X-Won \$mkt_exp_won always;
            add_header X-Hero \$mkt_slot_hero always;
            return 200 "ok\\n";
        }

        location = /status {
            mkt off;
            mkt_status;
        }
    }
EOF
}

my $ngx = start_nginx(files => { 'exp.json' => $exp }, http => http());

my $MOBILE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) '
    . 'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 '
    . 'Safari/604.1';

sub get {
    my (%h) = @_;
    my $jar = delete $h{jar};
    return request(GET => '/', headers => \%h, $jar ? (jar => $jar) : ());
}

sub status { decode_json(request(GET => '/status')->{body}) }

sub untracked {
    my ($res, $what) = @_;
    is($res->{status}, 200, "$what: served");
    is(scalar @{ $res->{set_cookies} }, 0, "$what: no Set-Cookie");
    is($res->{headers}{'x-vid'}, undef, "$what: no visitor id");
    is($res->{headers}{'x-uid'}, undef, "$what: no user id");
    is($res->{headers}{'x-t'}, 'control', "$what: the control");
    is($res->{headers}{'x-won'}, 'w2', "$what: a stopped experiment's winner");
}

sub tracked {
    my ($res, $what) = @_;
    is(scalar(grep { $_->{name} eq "_mkt" } @{ $res->{set_cookies} }), 1,
       "$what: the visitor cookie set");
    like($res->{headers}{'x-vid'}, qr/^[A-Za-z0-9_-]{22}$/,
         "$what: a visitor id");
    is($res->{headers}{'x-t'}, 'treatment', "$what: assigned as usual");
}

# --- GPC, on by default ---------------------------------------------------
tracked(get(), 'no signal');
my $s0 = status();
untracked(get('Sec-GPC' => '1', 'X-User-Id' => 'u1',
              'User-Agent' => $MOBILE), 'Sec-GPC: 1');
my $r = get('Sec-GPC' => '1', 'User-Agent' => $MOBILE);
is($r->{headers}{'x-hero'}, 'generic', 'GPC: the slot default, not its rule');
is(get('User-Agent' => $MOBILE)->{headers}{'x-hero'}, 'mobile',
   'without GPC the rule picks the mobile hero');
tracked(get('Sec-GPC' => '0'), 'Sec-GPC: 0');

# a returning visitor withdrawing: the cookie is neither read nor renewed
my $jar = new_jar();
tracked(get(jar => $jar), 'first visit');
my $cookie = $jar->cookie('_mkt');
$r = get(jar => $jar, 'Sec-GPC' => '1');
untracked($r, 'returning visitor sending GPC');
is($jar->cookie('_mkt'), $cookie, 'the browser keeps its cookie untouched');

my $s1 = status();
is($s1->{no_tracking} - $s0->{no_tracking}, 3, 'untracked requests counted');
is($s1->{requests} - $s0->{requests}, 6, 'and in the request total');
is($s1->{new_visitors} - $s0->{new_visitors}, 3,
   'visitors minted only for the 3 tracked requests');

# --- DNT off by default, on when asked; GPC can be switched off --------------
tracked(get('DNT' => '1'), 'DNT: 1 by default');
$ngx->reload(files => { 'exp.json' => $exp },
             http => http('gpc=off dnt=on'));
untracked(get('DNT' => '1'), 'DNT: 1 with dnt=on');
tracked(get('Sec-GPC' => '1'), 'Sec-GPC: 1 with gpc=off');

# --- a consent cookie ----------------------------------------------------------
$ngx->reload(files => { 'exp.json' => $exp },
             http => http('consent=$cookie_consent'));
tracked(get(), 'no consent cookie (not set)');
tracked(get(Cookie => 'consent=granted'), 'consent=granted');
untracked(get(Cookie => 'consent=denied'), 'consent=denied');
untracked(get(Cookie => 'consent=pending'), 'consent=pending');
$jar = new_jar();
tracked(get(jar => $jar), 'first visit');
$jar->set('consent', 'denied');
untracked(get(jar => $jar), 'consent withdrawn on the next request');

my ($rc, $out) = nginx_test_config(files => { 'exp.json' => $exp },
    http => http('gpc=maybe'));
isnt($rc, 0, 'a bad mkt_privacy value fails nginx -t');
like($out, qr/invalid parameter "gpc=maybe"/, 'naming it');

# --- bots and prefetches ----------------------------------------------------------
$ngx->reload(files => { 'exp.json' => $exp }, http => http());
my $s2 = status();
my $BOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; '
    . '+http://www.google.com/bot.html)';
$r = get('User-Agent' => $BOT);
like($r->{headers}{'x-vid'}, qr/^[A-Za-z0-9_-]{22}$/, 'a bot gets an id');
is($r->{headers}{'x-t'}, 'treatment', 'and decisions');
# a cookie issued two days ago: a browser gets it renewed, a bot does not
my $old = signed_cookie('QmJvdEJvdEJvdEJvdEJvdA', time - 2 * 86400);
$r = get('User-Agent' => $BOT, Cookie => "_mkt=$old");
is($r->{headers}{'x-vid'}, 'QmJvdEJvdEJvdEJvdEJvdA', 'the bot keeps its id');
is(scalar(grep { $_->{name} eq '_mkt' } @{ $r->{set_cookies} }), 0,
   'but its cookie is not renewed');
$r = get(Cookie => "_mkt=$old");
is(scalar(grep { $_->{name} eq '_mkt' } @{ $r->{set_cookies} }), 1,
   "a browser's is");
$r = get('Sec-Purpose' => 'prefetch;prerender');
tracked($r, 'a prerender');
get('Purpose' => 'prefetch');
my $s3 = status();
is($s3->{bots} - $s2->{bots}, 2, 'the bot requests counted');
is($s3->{prefetches} - $s2->{prefetches}, 2, 'the prefetches counted');

# the signals are found in one pass over the headers: any case, exact
# names, the first of a repeated one
untracked(get('sec-gpc' => '1'), 'sec-gpc: 1 in lower case');
tracked(get('Sec-GPX' => '1', 'Sec-GP' => '1', 'X-Sec-GPC' => '1'),
        'names that only look like Sec-GPC');
untracked(request(GET => '/', headers => ['X-A' => 'b', 'Sec-GPC' => '1',
                                          'Sec-GPC' => '0']),
          'the first Sec-GPC counts');
tracked(request(GET => '/', headers => ['Sec-GPC' => '0', 'Sec-GPC' => '1']),
        'a later one does not');
get('x-moz' => 'prefetch');
get('X-Purpose' => 'preview', 'Purpose' => 'navigate');
get('Purpose' => 'navigate', 'X-Purpose' => 'view');
is(status()->{prefetches} - $s3->{prefetches}, 2,
   'X-Moz and X-Purpose prefetches counted, others not');

finish();

# The contract of DESIGN.md sections 4-6 across nginx's request paths:
# privacy on beacons, conversions, redirects and subrequests; mkt_cookie
# attributes on every cookie; $mkt_* final after a read where mkt is off;
# an SSI include from a page without mkt mints no id; prefetch and forced
# requests make no exposure.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;

my $SECRET = 'review-secret-0123456789abcdef';

my $exp = encode_json({
    goals => ['signup'],
    experiments => [
        { key => 'always-t', variations => ['control', 'treatment'],
          weights => [0, 1] },
        { key => 'won', status => 'stopped', winner => 'w2',
          variations => ['w1', 'w2'] },
    ],
    slots => [
        { key => 'hero', variants => ['generic', 'mobile'],
          rules => [{ if => { device => 'desktop' }, variant => 'mobile' }],
          default => 'generic' },
    ],
});

my $ngx = start_nginx(files => { 'exp.json' => $exp,
                                 'p/ssi.html' => "[<!--# include virtual=\"/sub\" -->]",
                                 'p/ssi-off.html' =>
                                     "[<!--# include virtual=\"/sub-vid\" -->]" },
                      http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;
    mkt_cookie name=_v domain=example.com path=/x max_age=3d secure=on samesite=strict;
    mkt_qa 127.0.0.1;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name www.example.com;
        mkt on;

        location / {
            add_header X-T \$mkt_exp_always_t always;
            add_header X-K "\$mkt_cache_key" always;
            return 200 "ok\\n";
        }
        location /rw/ {
            rewrite ^ /target last;
        }
        location = /target {
            mkt off;
            add_header X-T \$mkt_exp_always_t always;
            add_header X-Vid \$mkt_vid always;
            return 200 "t=\$mkt_exp_always_t\\n";
        }
        location = /ep {
            error_page 404 = /target;
            return 404;
        }
        location = /ssi.html {
            root %%PREFIX%%/p;
            ssi on;
        }
        location = /sub {
            return 200 "sub=\$mkt_exp_always_t";
        }
        location = /ssi-off.html {
            mkt off;
            root %%PREFIX%%/p;
            ssi on;
        }
        location = /sub-vid {
            return 200 "sub=\$mkt_exp_always_t vid=\$mkt_vid";
        }
        location = /c {
            mkt_collect;
        }
        location = /c-off {
            mkt off;
            mkt_collect;
        }
        location = /conv {
            mkt_conversion signup;
            return 200 "ok\\n";
        }
        location = /status { mkt off; mkt_status; }
    }
EOF

my $log = $ngx->prefix . '/events.jsonl';
sub events {
    return () unless -e $log;
    return map { decode_json($_) } split /\n/, read_file($log);
}
sub new_since {
    my ($n) = @_;
    my @e = events();
    return @e[$n .. $#e];
}

my $r;
# --- cookie attributes on every cookie ---------------------------------------
$r = request(GET => '/?utm_source=weibo&utm_medium=social', host => 'www.example.com');
my @sc = header_all($r, 'set-cookie');
is(scalar @sc, 4, 'four cookies: visitor, sticky, first and last touch');
like($_, qr/^(_v|_mkt_sb|_mkt_ft|_mkt_lt)=[^;]+; Max-Age=259200; Domain=example\.com; Path=\/x; HttpOnly; SameSite=Strict; Secure$/,
     'mkt_cookie attributes on ' . (split /=/, $_)[0]) for @sc;

# --- privacy on beacons and conversions ----------------------------------------
for my $path ('/c?goal=signup', '/c-off?goal=signup', '/conv',
              '/ep', '/rw/x', '/ssi.html', '/?utm_source=a&utm_medium=b') {
    my $n = () = events();
    $r = request(GET => $path, host => 'www.example.com',
                 headers => { 'Sec-GPC' => '1' });
    is(scalar @{ $r->{set_cookies} }, 0, "GPC $path: no Set-Cookie")
        or diag explain $r->{headers};
    my @new = new_since($n);
    is(scalar(grep { exists $_->{vid} || exists $_->{uid} } @new), 0,
       "GPC $path: no identity in events") or diag explain \@new;
}

# --- variables through redirects and subrequests ------------------------------
$r = request(GET => '/rw/x', host => 'www.example.com');
is($r->{headers}{'x-t'}, 'treatment', 'rewrite last: exp variable');
$r = request(GET => '/ep', host => 'www.example.com');
is($r->{body}, "t=treatment\n", 'error_page: exp variable');
$r = request(GET => '/ssi.html', host => 'www.example.com');
is($r->{body}, "[sub=treatment]", 'SSI subrequest: exp variable');

# a page without mkt including one with it: its header is gone before the
# include runs, so a new visitor gets no id (it could never be stored)
# and is exposed to nothing; a returning one gets its decisions
my $n = () = events();
$r = request(GET => '/ssi-off.html', host => 'www.example.com');
is($r->{body}, "[sub= vid=]", 'SSI into mkt from a page without: no new id');
is(scalar @{ $r->{set_cookies} }, 0, 'and no Set-Cookie');
my @no_events = new_since($n);
is(scalar @no_events, 0, 'and no event') or diag explain \@no_events;
my $visitor = new_jar();
$r = request(GET => '/', jar => $visitor, host => 'www.example.com');
my ($vid) = map { /^_v=1\.([A-Za-z0-9_-]{22})\./ ? $1 : () }
    header_all($r, 'set-cookie');
ok(defined $vid, 'a visitor cookie');
$n = () = events();
$r = request(GET => '/ssi-off.html', jar => $visitor, host => 'www.example.com');
is($r->{body}, "[sub=treatment vid=$vid]",
   'a returning visitor: its id and variation in the include');
my @seen = new_since($n);
is(scalar @seen, 0, 'exposed already today: no event')
    or diag explain \@seen;

# --- prefetch first, then a real view: the exposure comes then ----------------
my $jar = new_jar();
$n = () = events();
request(GET => '/', jar => $jar, host => 'www.example.com',
        headers => { 'Sec-Purpose' => 'prefetch' });
is(scalar(my @none = new_since($n)), 0, 'prefetch: no event');
request(GET => '/', jar => $jar, host => 'www.example.com');
is(scalar(grep { $_->{type} eq 'exposure' } new_since($n)), 1,
   'the real view after a prefetch: exposed');

# forced first, then a real view
$jar = new_jar();
$n = () = events();
request(GET => '/?mkt_force=always-t:control', jar => $jar, host => 'www.example.com');
is(scalar(grep { $_->{type} eq 'exposure' } new_since($n)), 0,
   'forced: no exposure');


# --- a variable read where mkt is off (server-level set), then in a
# location with mkt on -------------------------------------------------------
my $ngx2 = start_nginx(files => { 'exp.json' => $exp }, http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_cookie samesite=none;
    log_format exp '\$mkt_exp_always_t|\$mkt_cache_key|\$early';

    server {
        listen 127.0.0.1:%%PORT%%;
        set \$early "\$mkt_exp_always_t";

        location / {
            mkt on;
            access_log %%PREFIX%%/exp.log exp;
            add_header X-T "\$mkt_exp_always_t" always;
            add_header X-Vid "\$mkt_vid" always;
            add_header X-E "\$early" always;
            return 200 "ok\\n";
        }
        location /ret {
            mkt on;
            return 200 "t=\$mkt_exp_always_t\\n";
        }
    }
EOF
$r = request(GET => '/');
is($r->{headers}{'x-t'}, 'treatment',
   'a location with mkt on reads its decision after a server-level read');
like($r->{headers}{'x-vid'} // '', qr/^[A-Za-z0-9_-]{22}$/, 'and its vid');
is($r->{headers}{'x-e'}, undef, 'the server-level read itself is empty');
ok(wait_for(sub { -s $ngx2->prefix . '/exp.log' }, 5), 'logged');
my ($line) = grep { /\|/ } split /\n/, read_file($ngx2->prefix . '/exp.log');
like($line, qr/^treatment\|[A-Za-z0-9_-]{11}\|$/, 'and log_format reads it final');
like($_, qr/; SameSite=None; Secure$/, 'samesite=none: Secure')
    for header_all($r, 'set-cookie');

finish();

# Where visitors come from, through nginx: a multi-visit journey
# (xiaohongshu note -> direct return -> baidu cpc -> purchase) with the
# first/last touch cookies and variables at each step; channel codes and
# click ids; touch attributes in experiment conditions; bad input; GPC
# leaves no touch cookie.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64url decode_base64url);
use Mkt::Test;

my $SECRET = 'touch-secret-0123456789abcdef';

my $exp = encode_json({
    channels => { param => 'ch',
                  codes => { xhs01 => { source => 'xiaohongshu',
                                        medium => 'social',
                                        campaign => 'w47-note' } } },
    referrers => { same_site => ['example.com'] },
    experiments => [
        { key => 'from-xhs', variations => ['c', 't'], weights => [0, 1],
          condition => { 'ft.source' => 'xiaohongshu' } },
        { key => 'paid', variations => ['c', 't'], weights => [0, 1],
          condition => { channel => 'paid_search',
                         'utm.campaign' => { '$exists' => 1 } } },
    ],
});

my $ngx = start_nginx(files => { 'exp.json' => $exp }, http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name www.example.com;
        mkt on;

        location / {
            add_header X-Utm "\$mkt_utm_source|\$mkt_utm_medium|\$mkt_utm_campaign|\$mkt_utm_term|\$mkt_utm_content" always;
            add_header X-Click \$mkt_click_id always;
            add_header X-Ft "\$mkt_ft_source|\$mkt_ft_medium|\$mkt_ft_campaign" always;
            add_header X-Lt "\$mkt_lt_source|\$mkt_lt_medium|\$mkt_lt_campaign" always;
            add_header X-Channel \$mkt_channel always;
            add_header X-Xhs \$mkt_exp_from_xhs always;
            add_header X-Paid \$mkt_exp_paid always;
            return 200 "ok\\n";
        }

        location = /status {
            mkt off;
            mkt_status;
        }
    }
EOF

sub visit {
    my ($jar, $path, %h) = @_;
    return request(GET => $path, jar => $jar,
                   headers => { Host => 'www.example.com', %h });
}

# the cookies a response sets, but the sticky-bucket one (experiments)
sub sets {
    my ($res) = @_;
    return join ',', sort grep { $_ ne '_mkt_sb' }
        map { $_->{name} } @{ $res->{set_cookies} };
}

# 1. a Xiaohongshu note links to the shop (no campaign tags)
my $jar = new_jar();
my $r = visit($jar, '/landing/',
              Referer => 'https://www.xiaohongshu.com/explore/64f0c1');
is(sets($r), '_mkt,_mkt_ft,_mkt_lt', 'first visit: ft and lt set');
is($r->{headers}{'x-ft'}, 'xiaohongshu|social|', 'first touch: xiaohongshu');
is($r->{headers}{'x-lt'}, 'xiaohongshu|social|', 'last touch: the same');
is($r->{headers}{'x-channel'}, 'organic_social', 'channel organic_social');
is($r->{headers}{'x-utm'}, '||||', 'no utm on this request');
is($r->{headers}{'x-xhs'}, 't', 'ft.source in a condition');
my $ft = $jar->cookie('_mkt_ft');
like($ft, qr/^t1\.[0-9a-z]+\.[a-p]\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/,
     'a signed touch cookie');

# 2. days later, typed in: a direct visit changes nothing
$r = visit($jar, '/');
is(sets($r), '', 'direct return: no cookie written');
is($r->{headers}{'x-lt'}, 'xiaohongshu|social|', 'last touch kept');
is($r->{headers}{'x-channel'}, 'organic_social',
   'the visit keeps the last touch channel');
is($r->{headers}{'x-xhs'}, 't',
   'ft.source in a condition, read and verified from the cookie');

# 3. a Baidu ad
$r = visit($jar, '/landing/?utm_source=baidu&utm_medium=cpc'
           . '&utm_campaign=w47&utm_term=%E5%A5%B6%E7%B2%89+%E6%8E%A8%E8%8D%90'
           . '&utm_content=a%2Bb',
           Referer => 'https://www.baidu.com/baidu.php?url=x');
is(sets($r), '_mkt_lt', 'a new touch replaces only the last touch');
is($r->{headers}{'x-utm'}, "baidu|cpc|w47|\x{e5}\x{a5}\x{b6}\x{e7}\x{b2}"
   . "\x{89} \x{e6}\x{8e}\x{a8}\x{e8}\x{8d}\x{90}|a+b",
   'utm values percent-decoded, "+" a space, %2B a plus');
is($r->{headers}{'x-lt'}, 'baidu|cpc|w47', 'last touch: baidu cpc');
is($r->{headers}{'x-ft'}, 'xiaohongshu|social|', 'first touch unchanged');
is($r->{headers}{'x-channel'}, 'paid_search', 'channel paid_search');
is($r->{headers}{'x-paid'}, 't', 'channel and utm.campaign in a condition');
is($jar->cookie('_mkt_ft'), $ft, 'the first touch cookie untouched');

# 4. the purchase: an internal page view
$r = visit($jar, '/checkout/done',
           Referer => 'https://www.example.com/cart');
is(sets($r), '', 'same-site referrer: not a touch');
is($r->{headers}{'x-lt'}, 'baidu|cpc|w47', 'attributed to the baidu touch');
is($r->{headers}{'x-channel'}, 'paid_search', 'in the paid_search visit');
$r = visit($jar, '/checkout/done', Referer => 'https://shop.example.com/x');
is(sets($r), '', 'a listed same_site host: not a touch either');

# --- channel codes and click ids ---------------------------------------------------
$jar = new_jar();
$r = visit($jar, '/?ch=xhs01');
is($r->{headers}{'x-lt'}, 'xiaohongshu|social|w47-note', 'a channel code');
is($r->{headers}{'x-channel'}, 'organic_social', 'its channel');
$r = visit($jar, '/?gclid=Cj0KCQiA&gclid=second');
is($r->{headers}{'x-click'}, 'Cj0KCQiA', 'the first click id wins');
is($r->{headers}{'x-lt'}, 'google|cpc|', 'a gclid is a google ad click');
is($r->{headers}{'x-channel'}, 'paid_search', 'paid_search');
is($r->{headers}{'x-ft'}, 'xiaohongshu|social|w47-note', 'ft kept');

# --- bad input ---------------------------------------------------------------------
$r = visit(new_jar(), '/?utm_source=%FF%FEbad%00%01x&utm_medium='
           . ('m' x 5000) . '&utm_campaign=%zz%4');
is($r->{status}, 200, 'garbage in the query: served');
is($r->{headers}{'x-utm'} =~ /^\x{ef}\x{bf}\x{bd}\x{ef}\x{bf}\x{bd}badx\|m{128}\|%zz%4\|\|$/
   ? 1 : 0, 1, 'invalid UTF-8 replaced, controls dropped, capped at 128')
    or diag $r->{headers}{'x-utm'};
$r = visit(new_jar(), '/', Referer => "http://\x{ff}\x{fe}/" . ('a' x 6000));
is($r->{status}, 200, 'a garbage referrer: served');
is($r->{headers}{'x-channel'}, 'direct', 'and no touch from it');

my $forged = $jar->cookie('_mkt_lt');
substr($forged, -3) = 'AAA';
my $jar2 = new_jar();
$jar2->set('_mkt_lt', $forged);
$r = visit($jar2, '/');
is($r->{headers}{'x-lt'}, '||', 'a forged last touch is ignored');
is($r->{headers}{'x-channel'}, 'direct', 'and the visit is direct');

# --- no tracking, bots -----------------------------------------------------------------
$r = visit(new_jar(), '/?utm_source=weibo&utm_medium=social',
           'Sec-GPC' => '1');
is(sets($r), '', 'GPC: no touch cookie');
is($r->{headers}{'x-utm'}, 'weibo|social|||', 'but the campaign variables');

my $s = decode_json(request(GET => '/status')->{body});
is($s->{touches}, 6, 'six touches counted: xhs, baidu, code, gclid, garbage, GPC');
is($s->{bad_touch_cookies}, 1, 'the forged last touch counted, once');

# a forged first touch: the real one's frame with other data ("evil"
# for "xiaohongshu") under the real signature, which no longer fits
my ($head, $data, $sig) = $ft =~ /^(t1\.[0-9a-z]+\.[a-p])\.([^.]+)\.(.+)$/;
(my $fields = decode_base64url($data)) =~ s/xiaohongshu/evil/;
my $forged_ft = "$head." . encode_base64url($fields) . ".$sig";
isnt($forged_ft, $ft, 'a forged first touch with other fields');

# a direct visit: its frame is all it looks at first; read, it is refused
# and the visit writes its direct first touch, as when it verified it
$r = visit(new_jar(), '/', Cookie => "_mkt_ft=$forged_ft");
is($r->{headers}{'x-ft'}, '(direct)|(none)|',
   'a forged first touch is as none: the direct visit writes its own');
is(sets($r), '_mkt,_mkt_ft', 'and sends it');
is($r->{headers}{'x-xhs'}, undef, 'no condition sees the forged source');
# beside the real one (after it), the real one decides
$r = visit(new_jar(), '/', Cookie => "_mkt_ft=$forged_ft; _mkt_ft=$ft");
is($r->{headers}{'x-ft'}, 'xiaohongshu|social|',
   'direct visit, forged and real first touches: the real one');
is($r->{headers}{'x-xhs'}, 't', 'in the condition too');
is(sets($r), '_mkt', 'and nothing rewritten');
# a touch verifies on arrival, then decodes the value that passed
$r = visit(new_jar(), '/?utm_source=weibo&utm_medium=social',
           Cookie => "_mkt_ft=$forged_ft; _mkt_ft=$ft");
is($r->{headers}{'x-ft'}, 'xiaohongshu|social|',
   'touch, forged and real first touches: the real one');
is($r->{headers}{'x-xhs'}, 't', 'in the condition too');
is(sets($r), '_mkt,_mkt_lt', 'only the last touch written');
$r = visit(new_jar(), '/?utm_source=weibo&utm_medium=social',
           Cookie => "_mkt_ft=$forged_ft");
is($r->{headers}{'x-ft'}, 'weibo|social|',
   'touch, forged first touch alone: the touch replaces it');
is($r->{headers}{'x-xhs'}, undef, 'and no condition sees the forged one');
$s = decode_json(request(GET => '/status')->{body});
is($s->{bad_touch_cookies}, 3,
   'each lone forged first touch counted; beside a real one it is not');

# --- touch cookies read when asked for -------------------------------------------------
# an nginx without experiments: no condition reads ft or lt, so the touch
# cookies are only checked, and decoded when a variable asks (even in the
# log phase), with the same answers and the same cookies written
my $lean = start_nginx(http => <<"EOF");
    mkt_secret "$SECRET";
    log_format touches '\$mkt_ft_source|\$mkt_lt_source|\$mkt_channel';

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name www.example.com;
        mkt on;

        location /all/ {
            add_header X-Ft "\$mkt_ft_source|\$mkt_ft_medium|\$mkt_ft_campaign" always;
            add_header X-Lt "\$mkt_lt_source|\$mkt_lt_medium|\$mkt_lt_campaign" always;
            add_header X-Channel \$mkt_channel always;
            return 200 "ok\\n";
        }

        location /channel/ {
            add_header X-Channel \$mkt_channel always;
            return 200 "ok\\n";
        }

        location /none/ {
            access_log %%PREFIX%%/touches.log touches;
            return 200 "ok\\n";
        }

        location /plain/ {
            return 200 "ok\\n";
        }

        location = /status {
            mkt off;
            mkt_status;
        }
    }
EOF

my %c = map { ($_ => $jar->cookie($_)) } qw(_mkt _mkt_ft _mkt_lt);
sub lean {
    my ($path, $cookies, %h) = @_;
    return request(GET => $path, nginx => $lean,
        headers => { Host => 'www.example.com',
                     Cookie => join('; ', map { "$_=$cookies->{$_}" }
                                          sort keys %$cookies), %h });
}
$r = lean('/all/', \%c);
is($r->{headers}{'x-ft'}, 'xiaohongshu|social|w47-note', 'lazy: first touch');
is($r->{headers}{'x-lt'}, 'google|cpc|', 'lazy: last touch');
is($r->{headers}{'x-channel'}, 'paid_search', 'lazy: channel of the visit');
is(sets($r), '', 'lazy: a direct visit writes nothing');
$r = lean('/channel/', \%c);
is($r->{headers}{'x-channel'}, 'paid_search', 'the channel alone');
$r = lean('/channel/', \%c, Referer => 'https://www.example.com/cart');
is($r->{headers}{'x-channel'}, 'paid_search', 'the channel of a page view');
$r = lean('/channel/', \%c, Referer => 'https://www.bing.com/');
is($r->{headers}{'x-channel'}, 'organic_search', 'the channel of a touch');
is(sets($r), '_mkt_lt', 'which replaces the last touch');
$r = lean('/none/', \%c);
is(sets($r), '', 'nothing read, nothing written');
ok(wait_for(sub { (read_file($lean->prefix . '/touches.log') // '')
    =~ /^xiaohongshu\|google\|paid_search$/m }),
   'variables read in the log phase decode the cookies');

# rejected touch cookies are counted once per name and request, when the
# request reads them
sub bad_touch {
    return decode_json(request(GET => '/status', nginx => $lean)->{body})
        ->{bad_touch_cookies};
}
my $counted = bad_touch();
is($counted, 0, 'bad_touch_cookies: none before');
sub rejected {
    my ($want, $name) = @_;
    my $now = bad_touch();
    is($now - $counted, $want, "bad_touch_cookies +$want: $name");
    $counted = $now;
}

# a first touch that does not verify is as good as none when read; a
# direct visit looks at its frame alone, and writes its direct first touch
# over it when something reads it before the header goes (docs/security.md)
my %bad = %c;
$bad{_mkt_ft} =~ s/(.)\z/$1 eq 'A' ? 'B' : 'A'/e;
$r = lean('/none/', \%bad);
is(sets($r), '', 'read only in the log phase: too late to rewrite it');
rejected(1, 'its log line reads the first touch: refused');
$r = lean('/plain/', \%bad);
is(sets($r), '', 'nothing reads it: kept');
rejected(0, 'a direct visit that reads no touch verifies none');
$r = lean('/all/', \%bad);
is(sets($r), '_mkt_ft', 'a broken first touch is rewritten when read');
is($r->{headers}{'x-ft'}, '(direct)|(none)|', 'the new first touch: direct');
is($r->{headers}{'x-lt'}, 'google|cpc|', 'the last touch kept');
rejected(1, 'read, refused');
$r = lean('/all/', \%bad, Referer => 'https://www.bing.com/');
is(sets($r), '_mkt_ft,_mkt_lt', 'a touch replaces a broken first touch');
is($r->{headers}{'x-ft'}, 'bing|organic|', 'with itself');
rejected(1, 'a touch checks the first touch, and does not decode it again');
$r = lean('/channel/', \%bad, Referer => 'https://www.example.com/cart');
is($r->{headers}{'x-channel'}, 'paid_search', 'the channel of a page view');
rejected(0, 'reads the last touch alone, not the broken first');
$r = lean('/none/', \%bad, Referer => 'https://www.example.com/cart');
is(sets($r), '', 'a page view writes no first touch');
rejected(1, 'a page view: its log line reads the first touch');
$r = lean('/plain/', \%bad, Referer => 'https://www.example.com/cart');
rejected(0, 'a page view that reads no touch');
$r = lean('/all/', \%bad, Referer => 'https://www.example.com/cart');
is($r->{headers}{'x-ft'}, '||', 'and reads none');
rejected(1, 'a page view reading the first touch');

# both broken, in other ways: garbage, and unsigned
(my $unsigned = $c{_mkt_lt}) =~ s/\.[A-Za-z0-9_-]{16}\z//;
my %both = (%c, _mkt_ft => 't1.garbage', _mkt_lt => $unsigned);
$r = lean('/all/', \%both, Referer => 'https://www.example.com/cart');
is($r->{headers}{'x-lt'}, '||', 'an unsigned last touch is none');
is($r->{headers}{'x-channel'}, 'direct', 'so the visit is direct');
rejected(2, 'both names');
$r = lean('/channel/', { %c, _mkt_lt => $unsigned },
          Referer => 'https://www.example.com/cart');
rejected(1, 'the last touch read for the channel alone');
$r = request(GET => '/all/', nginx => $lean,
    headers => { Host => 'www.example.com',
                 Referer => 'https://www.example.com/cart',
                 Cookie => "_mkt_lt=junk; _mkt_lt=$c{_mkt_lt}" });
is($r->{headers}{'x-lt'}, 'google|cpc|', 'a good twin wins');
rejected(0, 'a broken twin beside a good one');

finish();

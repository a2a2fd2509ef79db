# Conversions through nginx (DESIGN.md section 8): the mkt_collect beacon
# endpoint (GET, pixel, POST of one event, an array, text/plain; every
# refusal with its exact status and JSON error; 405; CORS), the identity,
# assignments and touches a conversion carries (from the cookies, never
# the body), privacy, dedup on (goal, order) across two workers,
# mkt_conversion on 2xx only, 503 without a sink, and the counters.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use Mkt::Test;

my $SECRET = 'collect-secret-0123456789abcdef';

my $exp = encode_json({
    goals => ['signup', 'purchase'],
    experiments => [
        { key => 'hero', variations => ['control', 'new-hero'],
          weights => [0.5, 0.5] },
        { key => 'all-in', variations => ['a', 'b'], weights => [0, 1] },
        { key => 'checkout-only', variations => ['x', 'y'],
          weights => [0, 1], match => { path => '^/checkout' } },
    ],
});

my $ngx = start_nginx(workers => 2, files => { 'exp.json' => $exp },
                      http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;
    mkt_privacy gpc=on;
    log_format pids '\$pid \$uri';

    server {
        # reuseport: the kernel spreads new connections over both workers
        listen 127.0.0.1:%%PORT%% reuseport;
        server_name www.example.com;
        mkt_user_id \$cookie_uid;
        access_log %%PREFIX%%/pids.log pids;

        location / {
            mkt on;
            return 200 "ok\\n";
        }

        location = /mkt/collect {
            mkt_collect cors=https://shop.example.cn,https://a.example.cn
                        https://m.example.cn;
        }

        location = /mkt/collect-on {
            mkt on;
            mkt_collect max_events=3 max_body=1k;
        }

        location = /order/done {
            mkt_conversion purchase value=\$arg_total currency=\$arg_cur
                           order=\$upstream_http_x_order_id;
            proxy_pass http://127.0.0.1:%%PORT2%%;
        }

        location = /thanks {
            mkt on;
            mkt_conversion signup;
            return 200 "thanks\\n";
        }

        location /welcome/ {
            mkt_conversion signup;
            mkt_conversion purchase value=\$arg_v order=\$arg_o;

            location /welcome/nested/ {
                return 200 "nested\\n";
            }

            return 200 "welcome\\n";
        }

        location = /status {
            mkt_status;
        }
    }

    server {
        listen 127.0.0.1:%%PORT2%%;
        access_log off;

        location = /order/done {
            if (\$arg_status = 500) {
                return 500;
            }
            add_header X-Order-Id \$arg_order;
            return 200 "thank you\\n";
        }
    }
EOF

my $log = $ngx->prefix . '/events.jsonl';
my $GIF = "GIF89a\x01\x00\x01\x00\x80\x01\x00\x00\x00\x00\xff\xff\xff"
    . "\x21\xf9\x04\x01\x00\x00\x01\x00\x2c\x00\x00\x00\x00\x01\x00\x01"
    . "\x00\x00\x02\x02\x4c\x01\x00\x3b";

sub events {
    return () unless -e $log;
    return map { decode_json($_) } split /\n/, read_file($log);
}

# the events recorded since the last call
my $seen = 0;
sub new_events {
    my @ev = events();
    my @new = @ev[$seen .. $#ev];
    $seen = @ev;
    return @new;
}

sub status {
    return decode_json(request(GET => '/status')->{body});
}

sub get {
    my ($path, %o) = @_;
    my $h = delete $o{headers} // {};
    return request(GET => $path,
                   headers => { Host => 'www.example.com', %$h }, %o);
}

sub post {
    my ($path, $body, %o) = @_;
    my $h = delete $o{headers} // {};
    return request(POST => $path, body => $body,
                   headers => { Host => 'www.example.com',
                                'Content-Type' => 'application/json', %$h },
                   %o);
}

# what each refusal answers: status and exact body
sub refused {
    my ($res, $status, $error, $event, $name) = @_;
    my $want = defined $event ? encode_json({ error => $error })
        =~ s/\}\z/,"event":$event}/r : encode_json({ error => $error });
    is($res->{status}, $status, "$name: $status");
    is($res->{body}, $want, "$name: error body");
    is($res->{headers}{'content-type'}, 'application/json',
       "$name: JSON");
}

# the status of the next response on a kept-alive connection
sub next_status {
    my ($c) = @_;
    my ($head, $line) = ('', '');
    while (defined($line = <$c>)) {
        $head .= $line;
        last if $line eq "\r\n";
    }
    my ($len) = $head =~ /^Content-Length: (\d+)/mi;
    read($c, my $body, $len) if $len;
    return $head =~ m{\AHTTP/1\.1 (\d+)} ? $1 : 0;
}

# n beacons (orders PFX-1 ...) sent on n kept-alive connections while
# the worker is stopped, so that it reads them in one turn of its event
# loop: ([status], ...)
sub batch {
    my ($ngx, $pfx, $n) = @_;
    my @c = map {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $ngx->port,
                              Timeout => 10) or die "connect: $!";
    } 1 .. $n;
    my $send = sub {
        my ($c, $path) = @_;
        print $c "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n";
    };
    # every connection accepted and idle: a request each first
    for my $c (@c) {
        $send->($c, '/status');
        next_status($c);
    }
    my ($worker) = $ngx->worker_pids;
    kill 'STOP', $worker;
    # stopped for sure (the signal is delivered asynchronously): else it
    # may take the first beacons in a turn of their own
    wait_for(sub { (Mkt::Test::_proc_stat($worker))[0] eq 'T' }, 5)
        or die "worker $worker did not stop";
    $send->($c[$_ - 1], "/c?goal=signup&order=$pfx-$_") for 1 .. $n;
    kill 'CONT', $worker;
    my @st = map { next_status($_) } @c;
    close $_ for @c;
    return map { [$_] } @st;
}

my %count;    # the counters the requests below must leave

# --- GET and the pixel ---------------------------------------------------

my $res = get('/mkt/collect?goal=signup&value=19.99&currency=usd&order=G-1'
              . '&cb=123');
$count{collect_requests}++;
is($res->{status}, 204, 'GET: 204');
is($res->{body}, '', 'GET: no body');
is($res->{headers}{'cache-control'}, 'no-store', 'GET: not cached');
is($res->{headers}{'set-cookie'}, undef, 'no cookie minted without mkt on');
my @ev = new_events();
is(scalar @ev, 1, 'GET: one event');
is_deeply([sort keys %{ $ev[0] }],
          [qw(currency device goal host id order path ts type value)],
          'GET: no identity without cookies');
is($ev[0]{type}, 'conversion', 'type');
is($ev[0]{goal}, 'signup', 'goal');
is($ev[0]{value}, 19.99, 'value');
is($ev[0]{currency}, 'USD', 'currency uppercased');
is($ev[0]{order}, 'G-1', 'order');
is($ev[0]{host}, 'www.example.com', 'host: the request\'s without Referer');
is($ev[0]{path}, '/mkt/collect', 'path: the request\'s without Referer');
like($ev[0]{id}, qr/^[0-9A-HJKMNP-TV-Z]{26}$/, 'a ULID');

$res = get('/mkt/collect?goal=signup', headers => {
    Accept => 'image/avif,image/webp,image/apng,image/svg+xml,image/*,'
              . '*/*;q=0.8' });
$count{collect_requests}++;
is($res->{status}, 200, 'pixel: 200');
is($res->{headers}{'content-type'}, 'image/gif', 'pixel: image/gif');
is($res->{headers}{'content-length'}, 43, 'pixel: 43 bytes');
is($res->{body}, $GIF, 'pixel: a 1x1 GIF');
is($res->{headers}{'cache-control'}, 'no-store', 'pixel: not cached');
is(scalar(new_events()), 1, 'pixel: recorded');

$res = get('/mkt/collect?goal=signup', headers => { Accept => 'image/gif' });
$count{collect_requests}++;
is($res->{body}, $GIF, 'Accept: image/gif gets the GIF');
$res = get('/mkt/collect?goal=signup', headers => { Accept => '*/*' });
$count{collect_requests}++;
is($res->{status}, 204, 'Accept: */* (fetch, sendBeacon) gets 204');
is(scalar(new_events()), 2, 'both recorded');

# --- POST ------------------------------------------------------------------

$res = post('/mkt/collect', '{"goal":"purchase","value":129.5,'
            . '"currency":"CNY","order":"A-1001","props":{"x":[1,2]}}');
$count{collect_requests}++;
is($res->{status}, 204, 'POST one event: 204');
@ev = new_events();
is(scalar @ev, 1, 'one event');
is_deeply([@{ $ev[0] }{qw(goal value currency order)}],
          ['purchase', 129.5, 'CNY', 'A-1001'], 'its fields');
ok(!exists $ev[0]{props}, 'unknown members are not recorded');

$res = post('/mkt/collect', '[{"goal":"signup"},{"goal":"purchase",'
            . '"value":"10","order":12345}]');
$count{collect_requests}++;
is($res->{status}, 204, 'POST an array: 204');
@ev = new_events();
is(scalar @ev, 2, 'two events');
is($ev[0]{goal}, 'signup', 'first');
is($ev[1]{value}, 10, 'second: value from a string');
is($ev[1]{order}, '12345', 'second: a numeric order kept as written');
isnt($ev[0]{id}, $ev[1]{id}, 'ids differ');

$res = post('/mkt/collect', '{"goal":"signup"}',
            headers => { 'Content-Type' => 'text/plain;charset=UTF-8' });
$count{collect_requests}++;
is($res->{status}, 204, 'text/plain (sendBeacon): 204');
$res = post('/mkt/collect', '{"goal":"signup"}',
            headers => {
                'Content-Type' => 'Application/JSON ; charset=utf-8' });
$count{collect_requests}++;
is($res->{status}, 204, 'media type in any case, with parameters');
is(scalar(new_events()), 2, 'both recorded');

# --- refusals: exact status and body, nothing recorded --------------------

my $fifty_one = '[' . join(',', ('{"goal":"signup"}') x 51) . ']';
refused(post('/mkt/collect', $fifty_one), 400,
        'too many events: at most 50', 50, '51 events');
$count{collect_rejected_too_many}++;

my $fifty = '[' . join(',', ('{"goal":"signup"}') x 50) . ']';
is(post('/mkt/collect', $fifty)->{status}, 204, '50 events: accepted');
is(scalar(new_events()), 50, '50 events recorded');
$count{collect_requests}++;

my $big = '{"goal":"signup","pad":"' . ('x' x (17 * 1024)) . '"}';
refused(post('/mkt/collect', $big), 400, 'body larger than 16384 bytes',
        undef, '17 KiB body');
$count{collect_rejected_too_large}++;

# the same without a Content-Length: chunked, refused once over max_body
my $chunked = join('', map { sprintf("%x\r\n%s\r\n", length $_, $_) }
                   unpack('(a4096)*', $big)) . "0\r\n\r\n";
$res = raw_request($ngx, "POST /mkt/collect HTTP/1.1\r\n"
                   . "Host: www.example.com\r\n"
                   . "Content-Type: application/json\r\n"
                   . "Transfer-Encoding: chunked\r\n"
                   . "Connection: close\r\n\r\n$chunked");
refused($res, 400, 'body larger than 16384 bytes', undef,
        '17 KiB chunked body');
$count{collect_rejected_too_large}++;

my $fits = '{"goal":"signup","pad":"' . ('y' x 12000) . '"}';
is(post('/mkt/collect', $fits)->{status}, 204,
   'a 12 KB body (over the default client_body_buffer_size) is accepted');
$count{collect_requests}++;
is(scalar(new_events()), 1, 'and recorded');

refused(post('/mkt/collect', '{"goal": "signup",}'), 400,
        'malformed JSON at offset 18: expected a string key', undef,
        'invalid JSON');
$count{collect_rejected_malformed}++;

refused(post('/mkt/collect', '[]'), 400, 'expected at least one event',
        undef, 'an empty array');
$count{collect_rejected_not_events}++;

refused(post('/mkt/collect', '{"goal":"Signup"}'), 400,
        'goal: "Signup" is not one of the config\'s goals', 0,
        'unknown goal');
$count{collect_rejected_unknown_goal}++;

refused(get('/mkt/collect?goal=refund'), 400,
        'goal: "refund" is not one of the config\'s goals', 0,
        'GET: unknown goal');
$count{collect_rejected_unknown_goal}++;

refused(post('/mkt/collect', '{"goal":"purchase","value":"abc"}'), 400,
        'value: expected a number', 0, 'value "abc"');
$count{collect_rejected_invalid}++;

refused(get('/mkt/collect?goal=purchase&value=abc'), 400,
        'value: expected a number', 0, 'GET: value "abc"');
$count{collect_rejected_invalid}++;

refused(post('/mkt/collect', '[{"goal":"purchase"},'
             . '{"goal":"purchase","currency":"usd1"}]'), 400,
        'events[1].currency: expected an ISO 4217 code', 1,
        'currency "usd1" in the second event');
$count{collect_rejected_invalid}++;

refused(get('/mkt/collect'), 400, 'goal: missing', 0, 'GET without goal');
$count{collect_rejected_invalid}++;

refused(post('/mkt/collect', 'goal=signup', headers => {
            'Content-Type' => 'application/x-www-form-urlencoded' }), 400,
        'content type must be application/json or text/plain', undef,
        'a form post');
$count{collect_rejected_content_type}++;

refused(post('/mkt/collect', '{"goal":"signup"}',
             headers => { 'Content-Type' => undef }), 400,
        'content type must be application/json or text/plain', undef,
        'no content type');
$count{collect_rejected_content_type}++;

refused(post('/mkt/collect-on', '[{"goal":"signup"},{"goal":"signup"},'
             . '{"goal":"signup"},{"goal":"signup"}]'), 400,
        'too many events: at most 3', 3, 'max_events=3');
$count{collect_rejected_too_many}++;

refused(post('/mkt/collect-on', '{"goal":"signup","p":"' . ('z' x 1024)
             . '"}'), 400, 'body larger than 1024 bytes', undef,
        'max_body=1k');
$count{collect_rejected_too_large}++;

is(scalar(new_events()), 0, 'nothing recorded for a refused body');

for my $n (qw(too_many too_large malformed not_events unknown_goal invalid
              content_type)) {
    $count{"collect_rejected_$n"} //= 0;
    $count{collect_rejected} += $count{"collect_rejected_$n"};
}
$count{collect_requests} += $count{collect_rejected};

# --- methods ---------------------------------------------------------------

$res = request(PUT => '/mkt/collect-on', body => '{"goal":"signup"}');
refused($res, 405, 'method not allowed', undef, 'PUT');
is($res->{headers}{allow}, 'GET, POST', 'PUT: Allow');
$res = request(OPTIONS => '/mkt/collect-on');
is($res->{status}, 405, 'OPTIONS without cors=: 405');
$res = request(DELETE => '/mkt/collect');
is($res->{status}, 405, 'DELETE: 405');
is($res->{headers}{allow}, 'GET, POST, OPTIONS', 'with cors=: Allow');
$res = request(HEAD => '/mkt/collect?goal=signup');
is($res->{status}, 405, 'HEAD: 405');
$count{collect_not_allowed} += 4;
$count{collect_requests} += 4;
is(scalar(new_events()), 0, 'nothing recorded');

# --- identity, assignments and touches of the cookies ----------------------

my $jar = new_jar();
$jar->set('uid', 'u42');
$res = get('/landing?utm_source=xiaohongshu&utm_medium=social'
           . '&utm_campaign=w47', jar => $jar);
is($res->{status}, 200, 'a page view');
get('/checkout/cart', jar => $jar, headers => {
    Referer => 'https://www.baidu.com/s?wd=shoes' });
my $vid = (split /\./, $jar->cookie('_mkt'))[1];
my %assign = map { $_->{exp} => $_->{var} }
             grep { $_->{type} eq 'exposure' } new_events();
is_deeply([sort keys %assign], ['all-in', 'checkout-only', 'hero'],
          'the pages exposed the visitor to three experiments');

$res = post('/mkt/collect', encode_json({
    goal => 'purchase', vid => 'forged-vid', uid => 'forged-uid',
    assign => { hero => 'forged' }, ft => { source => 'forged' },
    host => 'evil.example', path => '/forged', id => 'forged',
    ts => 1, type => 'conversion' }), jar => $jar,
    headers => { Referer => 'https://www.example.com/checkout/done%21'
                            . '?order=1#top' });
$count{collect_requests}++;
is($res->{status}, 204, 'a conversion with identity fields in its body');
is($res->{headers}{'set-cookie'}, undef, 'no cookie set by the beacon');
@ev = new_events();
is(scalar @ev, 1, 'one event');
my $c = $ev[0];
is($c->{vid}, $vid, 'vid: the cookie\'s, not the body\'s');
is($c->{uid}, 'u42', 'uid: mkt_user_id\'s, not the body\'s');
is_deeply($c->{assign}, \%assign,
          'assign: the sticky cookie\'s (checkout-only too, though the '
          . 'beacon\'s path matches it not)');
is_deeply($c->{ft}, { source => 'xiaohongshu', medium => 'social',
                      campaign => 'w47' }, 'ft: the first-touch cookie');
is_deeply($c->{lt}, { source => 'baidu', medium => 'organic' },
          'lt: the last-touch cookie');
is($c->{host}, 'www.example.com', 'host: the Referer\'s');
is($c->{path}, '/checkout/done!', 'path: the Referer\'s, decoded');
isnt($c->{id}, 'forged', 'id: the server\'s');
ok($c->{ts} > 1000 * (time - 60), 'ts: the server\'s');

# a forged or foreign sticky cookie adds nothing
my $bad = new_jar();
$bad->set('_mkt', $jar->cookie('_mkt'));
$bad->set('_mkt_sb', $jar->cookie('_mkt_sb') =~ s/.$/A/r);
post('/mkt/collect', '{"goal":"signup"}', jar => $bad);
$count{collect_requests}++;
@ev = new_events();
is($ev[0]{vid}, $vid, 'the visitor cookie verifies');
ok(!exists $ev[0]{assign}, 'a sticky cookie failing its signature: no '
   . 'assignments');

# mkt on at the collect location: a new visitor gets a cookie, nothing is
# decided for the beacon's own URL (no exposure, no touch, no _mkt_sb)
my $new = new_jar();
$res = post('/mkt/collect-on', '{"goal":"signup"}', jar => $new,
            headers => { Referer => 'https://www.bing.com/' });
$count{collect_requests}++;
is($res->{status}, 204, 'mkt on: 204');
ok($new->cookie('_mkt'), 'mkt on: a visitor cookie minted');
is($new->cookie('_mkt_sb'), undef, 'mkt on: no sticky cookie');
is($new->cookie('_mkt_lt'), undef, 'mkt on: no touch cookie');
@ev = new_events();
is(scalar @ev, 1, 'mkt on: the conversion only (no exposure, no touch)');
is($ev[0]{vid}, (split /\./, $new->cookie('_mkt'))[1],
   'mkt on: the conversion carries the new visitor id');
is($ev[0]{host}, 'www.bing.com', 'host from the Referer');

$res = post('/mkt/collect-on', '{"goal":"signup"}', jar => $jar);
$count{collect_requests}++;
@ev = new_events();
is(scalar @ev, 1, 'mkt on, returning visitor: one event');
is_deeply($ev[0]{assign}, \%assign, 'mkt on: assignments of the cookie');

# --- privacy ---------------------------------------------------------------

$res = post('/mkt/collect', '{"goal":"purchase","order":"P-1"}',
            jar => $jar, headers => { 'Sec-GPC' => '1' });
$count{collect_requests}++;
is($res->{status}, 204, 'GPC: acknowledged');
@ev = new_events();
is(scalar @ev, 1, 'GPC: recorded');
is_deeply([sort grep { exists $ev[0]{$_} } qw(vid uid assign ft lt)], [],
          'GPC: without vid, uid, assign, ft or lt');
is($ev[0]{order}, 'P-1', 'GPC: the conversion itself is kept');

# --- CORS --------------------------------------------------------------------

$res = post('/mkt/collect', '{"goal":"signup"}',
            headers => { Origin => 'https://shop.example.cn' });
$count{collect_requests}++;
is($res->{status}, 204, 'listed origin: 204');
is($res->{headers}{'access-control-allow-origin'}, 'https://shop.example.cn',
   'listed origin: allowed');
is($res->{headers}{'access-control-allow-credentials'}, 'true',
   'with credentials');
is($res->{headers}{vary}, 'Origin', 'Vary: Origin');

$res = post('/mkt/collect', '{"goal":"signup"}',
            headers => { Origin => 'https://evil.example' });
$count{collect_requests}++;
is($res->{status}, 204, 'other origin: 204');
is($res->{headers}{'access-control-allow-origin'}, undef,
   'other origin: no CORS headers');
is($res->{headers}{'access-control-allow-credentials'}, undef,
   'other origin: no credentials');
is($res->{headers}{vary}, 'Origin', 'other origin: Vary: Origin');
is(scalar(new_events()), 2, 'both recorded (CORS guards reading)');

$res = request(OPTIONS => '/mkt/collect', headers => {
    Origin => 'https://m.example.cn',
    'Access-Control-Request-Method' => 'POST',
    'Access-Control-Request-Headers' => 'content-type' });
$count{collect_requests}++;
is($res->{status}, 204, 'preflight: 204');
is($res->{headers}{'access-control-allow-origin'}, 'https://m.example.cn',
   'preflight: origin');
is($res->{headers}{'access-control-allow-methods'}, 'GET, POST',
   'preflight: methods');
is($res->{headers}{'access-control-allow-headers'}, 'Content-Type',
   'preflight: headers');
is($res->{headers}{'access-control-max-age'}, '86400', 'preflight: max age');
is($res->{headers}{'access-control-allow-credentials'}, 'true',
   'preflight: credentials');

$res = request(OPTIONS => '/mkt/collect', headers => {
    Origin => 'https://evil.example',
    'Access-Control-Request-Method' => 'POST' });
$count{collect_requests}++;
is($res->{status}, 204, 'preflight, other origin: 204');
is_deeply([grep { /^access-control-/ } keys %{ $res->{headers} }], [],
          'preflight, other origin: no CORS headers');
is(scalar(new_events()), 0, 'preflights record nothing');

# --- dedup on (goal, order) --------------------------------------------------

for (1 .. 2) {
    is(post('/mkt/collect', '{"goal":"purchase","order":"D-1"}')->{status},
       204, "order D-1, time $_: acknowledged");
}
is(get('/mkt/collect?goal=purchase&order=D-1')->{status}, 204,
   'order D-1 by GET: acknowledged');
is(post('/mkt/collect', '[{"goal":"purchase","order":"D-1"},'
        . '{"goal":"signup","order":"D-1"},{"goal":"signup","order":"D-1"}]')
   ->{status}, 204, 'in a batch: acknowledged');
$count{collect_requests} += 4;
@ev = new_events();
is(scalar @ev, 2, 'recorded once per (goal, order)');
is_deeply([map { "$_->{goal}:$_->{order}" } @ev],
          ['purchase:D-1', 'signup:D-1'], 'a goal with the same order is '
          . 'another conversion');
$count{conversions_deduplicated} += 4;

# across both workers: each request on a new connection
truncate($ngx->prefix . '/pids.log', 0);
for (1 .. 30) {
    is(post('/mkt/collect', '{"goal":"purchase","order":"W-2"}',
            keep_alive => 0)->{status}, 204, "W-2 #$_: acknowledged")
        or last;
}
$count{collect_requests} += 30;
$count{conversions_deduplicated} += 29;
ok(wait_for(sub { (() = read_file($ngx->prefix . '/pids.log')
                   =~ m{ /mkt/collect$}mg) == 30 }), 'all logged');
my %pid = map { (split / /)[0] => 1 }
          grep { m{ /mkt/collect$} } split /\n/,
          read_file($ngx->prefix . '/pids.log');
is(scalar keys %pid, 2, 'both workers answered');
is(scalar(new_events()), 1, 'W-2 recorded once across workers');

# --- mkt_conversion ----------------------------------------------------------

$res = get('/order/done?status=200&total=99.50&cur=cny&order=O-1',
           jar => $jar);
is($res->{status}, 200, 'order page: 200');
is($res->{body}, "thank you\n", 'from the backend');
ok(wait_for(sub { scalar(() = events()) > $seen }),
   'a conversion after the response');
@ev = new_events();
is(scalar @ev, 1, 'one conversion');
$c = $ev[0];
is_deeply([@{$c}{qw(type goal value currency order path)}],
          ['conversion', 'purchase', 99.5, 'CNY', 'O-1', '/order/done'],
          'values from $arg_ and $upstream_http_ variables');
is($c->{vid}, $vid, 'vid from the cookie (no mkt on there)');
is($c->{uid}, 'u42', 'uid');
is_deeply($c->{assign}, \%assign, 'assignments from the sticky cookie');
is($c->{ft}{source}, 'xiaohongshu', 'ft');
is($res->{headers}{'set-cookie'}, undef, 'no cookie set');

get('/order/done?status=500&total=5&order=O-2', jar => $jar);
request(HEAD => '/order/done?status=200&order=O-5', jar => $jar);
get('/order/done?status=200&order=O-6', jar => $jar,
    headers => { 'Sec-Purpose' => 'prefetch' });
get('/order/done?status=200&total=5&order=O-1', jar => $jar);
$res = get('/order/done?status=200&total=1,5&cur=euro&order=O-3',
           jar => $jar);
is($res->{status}, 200, 'an order page with bad values');
$count{conversions_deduplicated}++;
$count{conversions_bad_values} += 2;
ok(wait_for(sub { scalar(() = events()) > $seen }), 'recorded');
@ev = new_events();
is(scalar @ev, 1, 'not on 500, HEAD or a prefetch, once for O-1, and O-3');
is($ev[0]{order}, 'O-3', 'O-3');
ok(!exists $ev[0]{value} && !exists $ev[0]{currency},
   'bad value and currency left out');
my $warning = 'mkt_conversion "purchase" recorded without value: '
    . 'expected a number';
ok($ngx->wait_error_log(qr/\Q$warning\E/), 'the bad value logged');

my $tjar = new_jar();
get('/thanks', jar => $tjar);
ok(wait_for(sub { scalar(() = events()) > $seen }), 'thanks page');
@ev = grep { $_->{type} eq 'conversion' } new_events();
is(scalar @ev, 1, 'mkt on: one conversion');
is($ev[0]{goal}, 'signup', 'goal signup');
is($ev[0]{vid}, (split /\./, $tjar->cookie('_mkt'))[1],
   'mkt on: the visitor id minted on this very page');
is_deeply($ev[0]{assign}, { hero => $ev[0]{assign}{hero}, 'all-in' => 'b' },
          'mkt on: the assignments of this request');

get('/order/done?status=200&order=O-4', jar => $jar,
    headers => { 'Sec-GPC' => '1' });
ok(wait_for(sub { scalar(() = events()) > $seen }), 'GPC order page');
@ev = new_events();
is_deeply([sort grep { exists $ev[0]{$_} } qw(vid uid assign ft lt)], [],
          'mkt_conversion under GPC: no identity');

get('/welcome/?v=5&o=WL-1', jar => $tjar);
ok(wait_for(sub { scalar(() = events()) >= $seen + 2 }), 'two directives');
@ev = new_events();
is_deeply([map { $_->{goal} } @ev], ['signup', 'purchase'],
          'two directives: two conversions, in order');
is_deeply([@{ $ev[1] }{qw(value order)}], [5, 'WL-1'], 'with their values');
get('/welcome/nested/?o=WL-2', jar => $tjar);
ok(wait_for(sub { scalar(() = events()) >= $seen + 2 }), 'nested location');
@ev = new_events();
is_deeply([map { "$_->{goal}:" . ($_->{order} // '') } @ev],
          ['signup:', 'purchase:WL-2'], 'inherited by a nested location');

# --- counters ----------------------------------------------------------------

my $st = status();
for my $k (sort keys %count) {
    is($st->{$k}, $count{$k}, "counter $k");
}
is($st->{events_conversions}, scalar(grep { $_->{type} eq 'conversion' }
                                     events()), 'events_conversions');
is($st->{collect_unacknowledged}, 0, 'nothing unacknowledged');
is($st->{dedup_evicted}, 0, 'nothing evicted');

$res = request(GET => '/status?format=prometheus');
like($res->{body}, qr/^mkt_collect_rejected_too_many_total 2$/m,
     'Prometheus: per reason');

# the dedup window survives a reload
$ngx->reload;
is(post('/mkt/collect', '{"goal":"purchase","order":"D-1"}')->{status}, 204,
   'after a reload: acknowledged');
is(scalar(new_events()), 0, 'after a reload: still a duplicate');

# --- a small dedup zone: the oldest orders are forgotten; the window ---------

my $small = start_nginx(files => { 'exp.json' => $exp }, http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=0;

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /c { mkt_collect dedup=32k; }
        location = /w { mkt_collect dedup=32k dedup_window=3s; }
        location = /status { mkt_status; }
    }
EOF
my $slog = $small->prefix . '/events.jsonl';
my $n = 0;
for my $i (1 .. 1000) {
    $n++ if request(GET => "/c?goal=signup&order=E-$i")->{status} == 204;
}
is($n, 1000, '1000 orders acknowledged');
$st = decode_json(request(GET => '/status')->{body});
ok($st->{dedup_evicted} > 0, 'a 32k zone evicted some: '
   . $st->{dedup_evicted});
request(GET => '/c?goal=signup&order=E-1000');
request(GET => '/c?goal=signup&order=E-1');
my @lines = split /\n/, read_file($slog);
is(scalar @lines, 1001, 'the newest order is remembered, the oldest was '
   . 'forgotten and recorded again');
is(decode_json($lines[-1])->{order}, 'E-1', 'E-1 again');

request(GET => '/w?goal=signup&order=T-1');
request(GET => '/w?goal=signup&order=T-1');
is(scalar(@{[ split /\n/, read_file($slog) ]}), 1002, 'T-1 once');
sleep 4;
request(GET => '/w?goal=signup&order=T-1');
is(scalar(@{[ split /\n/, read_file($slog) ]}), 1003,
   'T-1 again once its window passed');

# --- without a sink: not acknowledged ----------------------------------------

my $nosink = start_nginx(files => { 'exp.json' => $exp }, http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mkt/collect { mkt_collect; }
        location = /status { mkt_status; }
    }
EOF
ok($nosink->error_log =~ /record nothing without an event sink/,
   'a warning at start');
refused(request(GET => '/mkt/collect?goal=signup&order=N-1'), 503,
        'events could not be stored: retry later', undef, 'no sink');
refused(request(GET => '/mkt/collect?goal=signup&order=N-1'), 503,
        'events could not be stored: retry later', undef,
        'no sink: a retry is not taken for a duplicate');
$st = decode_json(request(GET => '/status')->{body});
is($st->{collect_unacknowledged}, 2, 'collect_unacknowledged');
is($st->{conversions_deduplicated}, 0, 'nothing deduplicated');

# --- the buffered log sink writes conversions at once; a full disk: 503 ---

my $buf = start_nginx(files => { 'exp.json' => $exp }, http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log %%PREFIX%%/events.jsonl buffer=64k flush=1h;

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /c {
            mkt_collect;
            # an "if" keeps the location's content handler, and needs its
            # mkt_collect too
            if (\$arg_debug) { set \$d 1; }
        }
        location = /status { mkt_status; }
    }
EOF
is(request(GET => '/c?goal=signup&order=B-1')->{status}, 204,
   'buffered sink: acknowledged');
like(read_file($buf->prefix . '/events.jsonl') // '', qr/"order":"B-1"/,
     'and already in the file, although the buffer flushes after 1h');
is(request(GET => '/c?goal=signup&order=B-2&debug=1')->{status}, 204,
   'through an "if" in the location: answered, not a crash');
like(read_file($buf->prefix . '/events.jsonl'), qr/"order":"B-2"/,
     'and recorded');

# Beacons that arrive together (the worker stopped while 20 kept-alive
# connections send one each, so that one turn of its event loop finds
# all 20): each acknowledged, each in the file when answered.
my @order = batch($buf, 'G', 20);
is_deeply([map { $_->[0] } @order], [(204) x 20],
          'a batch of 20 beacons: all acknowledged');
my $text = read_file($buf->prefix . '/events.jsonl');
is(scalar(() = $text =~ /"order":"G-\d+"/g), 20,
   'all 20 in the file when answered (the buffer flushes after 1h)');
$st = decode_json(request(GET => '/status')->{body});
is($st->{events_log_written}, 22, 'events_log_written: 2 + 20');
$buf->stop;

my $full = start_nginx(files => { 'exp.json' => $exp },
                       allow => [qr/write\(\) to "\/dev\/full" failed/],
                       http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_events_log /dev/full buffer=64k flush=1h;

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /c { mkt_collect; }
        location = /status { mkt_status; }
    }
EOF
refused(request(GET => '/c?goal=signup&order=F-1'), 503,
        'events could not be stored: retry later', undef,
        'a disk full: not acknowledged');
refused(request(GET => '/c?goal=signup&order=F-1'), 503,
        'events could not be stored: retry later', undef,
        'and a retry is tried again, not taken for a duplicate');
@order = batch($full, 'FB', 5);
is_deeply([map { $_->[0] } @order], [(503) x 5],
          'a batch whose write fails: none acknowledged');
@order = batch($full, 'FB', 5);
is_deeply([map { $_->[0] } @order], [(503) x 5],
          'and their orders are not taken for duplicates on a retry');
$st = decode_json(request(GET => '/status')->{body});
is($st->{events_log_errors}, 12, 'events_log_errors');
is($st->{collect_unacknowledged}, 12, 'collect_unacknowledged');
is($st->{events_dropped}, 12, 'events_dropped');
is($st->{conversions_deduplicated}, 0, 'nothing deduplicated');
$full->stop;

# --- configuration -------------------------------------------------------

my $dir = test_dir();
write_file("$dir/goals.json", '{"goals": ["signup"]}');
my $re = qr/mkt_conversion goal "refund" is not one of the goals of mkt_config/;
nginx_test_fails('unknown goal', <<"EOF", $re);
    mkt_config $dir/goals.json;
    server { location / { mkt_conversion refund; } }
EOF
$re = qr/mkt_conversion goal "signup" is not one of the goals/;
nginx_test_fails('no mkt_config', <<"EOF", $re);
    server { location / { mkt_conversion signup; } }
EOF
my ($rc, $out) = nginx_test_config(http => <<"EOF");
    server { location / { mkt_conversion signup order=\$arg_o; } }
    mkt_events_log $dir/e.jsonl;
    mkt_config $dir/goals.json;
EOF
is($rc, 0, 'mkt_config after the locations: goals checked all the same')
    or diag($out);
nginx_test_fails('bad parameter', <<"EOF", qr/invalid parameter "total=1"/);
    mkt_config $dir/goals.json;
    server { location / { mkt_conversion signup total=1; } }
EOF
nginx_test_fails('max_events=0', <<"EOF", qr/invalid parameter "max_events=0"/);
    server { location / { mkt_collect max_events=0; } }
EOF
nginx_test_fails('bad origin', <<"EOF", qr/invalid origin "shop.example.cn"/);
    server { location / { mkt_collect cors=shop.example.cn; } }
EOF
$re = qr{invalid origin "https://a.cn/x"};
nginx_test_fails('origin with a path', <<"EOF", $re);
    server { location / { mkt_collect cors=https://a.cn/x; } }
EOF
$re = qr/"dedup=2m" conflicts with an earlier mkt_collect/;
nginx_test_fails('conflicting dedup', <<"EOF", $re);
    server {
        location /a { mkt_collect dedup=1m; }
        location /b { mkt_collect dedup=2m; }
    }
EOF
nginx_test_fails('twice', <<"EOF", qr/"mkt_collect" directive is duplicate/);
    server { location / { mkt_collect; mkt_collect; } }
EOF
nginx_test_fails('a cache zone named like the dedup zone', <<"EOF",
    mkt_config $dir/goals.json;
    mkt_tags_cache zone=mkt_dedup:1m;
    server { location / { mkt_collect; } }
EOF
                 qr/zone "mkt_dedup" is already used/);
nginx_test_fails('a cache zone named like the status zone', <<"EOF",
    mkt_tags_cache zone=mkt_status:64k;
    server { location / { mkt_status; } }
EOF
                 qr/zone "mkt_status" is already used/);

finish();

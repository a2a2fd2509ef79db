# Self-tests of the integration harness (t/lib/Mkt/Test.pm), against a
# plain nginx (no mkt module) and a real redis-server.

use strict;
use warnings;

use Test::More;
use File::Spec;
use POSIX ();
use Mkt::Test qw(:DEFAULT parse_cookie_date);

my $LIB = File::Spec->rel2abs((File::Spec->splitpath($INC{'Mkt/Test.pm'}))[1]
    . '..');

my $ngx = start_nginx(module => 0,
    files => { 'html/ssi.html' => 'a<!--# echo var="arg_x" default="none" -->b',
        'port.txt' => "backend on %%PORT2%%\n" },
    http => <<'EOF',
    server {
        listen 127.0.0.1:%%PORT2%%;
        location / { return 200 "backend $request_uri\n"; }
    }
EOF
    server => <<'EOF');
        location = / {
            add_header Set-Cookie "a=1; Path=/; HttpOnly";
            return 200 "hello\n";
        }
        location = /two {
            add_header Set-Cookie "b=2; Max-Age=3600; Path=/; Secure; SameSite=Lax";
            add_header Set-Cookie "c=3; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Domain=example.com";
            return 204;
        }
        location = /del {
            add_header Set-Cookie "a=; Max-Age=0; Path=/";
            add_header Set-Cookie "c=x; Expires=Thu, 01 Jan 1970 00:00:01 GMT";
            return 200 "del\n";
        }
        location = /echo {
            return 200 "cookie=[$http_cookie] host=[$host] ua=[$http_user_agent] x=[$http_x_test] conn=$connection/$connection_requests\n";
        }
        location = /post {
            return 200 "len=$http_content_length type=$http_content_type\n";
        }
        location = /raw {
            server_tokens off;
            return 200 "hello\n";
        }
        location = /ssi.html {
            root %%PREFIX%%/html;
            ssi on;
        }
        location /proxy/ {
            proxy_pass http://127.0.0.1:%%PORT2%%/;
        }
EOF

# --- plain requests, headers, cookies

my $jar = new_jar();
my $res = request(GET => '/', jar => $jar);
is($res->{status}, 200, 'GET / status');
is($res->{body}, "hello\n", 'GET / body');
is($res->{headers}{'content-type'}, 'text/plain', 'content-type header');
is_deeply([header_all($res, 'Set-Cookie')], ['a=1; Path=/; HttpOnly'],
    'header_all with one value');
is_deeply($res->{set_cookies}, [{ name => 'a', value => '1',
    attrs => { path => '/', httponly => 1 }, raw => 'a=1; Path=/; HttpOnly' }],
    'Set-Cookie parsed');
is($jar->cookie('a'), '1', 'jar stored a');
is($jar->get('a')->{attrs}{httponly}, 1, 'jar keeps attributes');

$res = $ngx->get('/two', jar => $jar);
is($res->{status}, 204, '204 without body');
is($res->{body}, '', '204 body empty');
is(ref $res->{headers}{'set-cookie'}, 'ARRAY', 'two Set-Cookie: arrayref');
is_deeply([header_all($res, 'set-cookie')],
    ['b=2; Max-Age=3600; Path=/; Secure; SameSite=Lax',
     'c=3; Expires=Thu, 01 Jan 2099 00:00:00 GMT; Domain=example.com'],
    'header_all keeps both values in order');
is_deeply([map { $_->[0] } grep { lc $_->[0] eq 'set-cookie' }
    @{ $res->{header_list} }], ['Set-Cookie', 'Set-Cookie'],
    'header_list keeps duplicates');
is_deeply($res->{set_cookies}[0]{attrs},
    { 'max-age' => 3600, path => '/', secure => 1, samesite => 'Lax' },
    'Max-Age, Path, Secure, SameSite parsed');
is_deeply($res->{set_cookies}[1]{attrs},
    { expires => 'Thu, 01 Jan 2099 00:00:00 GMT', domain => 'example.com' },
    'Expires, Domain parsed');
is(parse_cookie_date('Thu, 01 Jan 2099 00:00:00 GMT'), 4070908800,
    'cookie date');
is(parse_cookie_date('Thursday, 01-Jan-99 00:00:00 GMT'), 915148800,
    'RFC 850 cookie date, two-digit year');
is_deeply([$jar->names], [qw(a b c)], 'jar names in order');

$jar->set(d => '4');
$res = request(GET => $ngx->url('/echo'), jar => $jar,
    headers => [Cookie => 'e=5', 'X-Test' => 'x1']);
like($res->{body}, qr/^cookie=\[a=1; b=2; c=3; d=4; e=5\] /,
    'jar cookies sent, explicit Cookie appended');
like($res->{body}, qr/ x=\[x1\] /, 'extra header sent');
like($res->{body}, qr/ ua=\[Mozilla\/5\.0 /, 'browser User-Agent by default');

$res = request(GET => '/del', jar => $jar);
is($jar->cookie('a'), undef, 'Max-Age=0 deletes');
is($jar->cookie('c'), undef, 'Expires in the past deletes');
is_deeply([$jar->names], [qw(b d)], 'others kept');
$jar->clear;
is($jar->header, undef, 'clear empties the jar');

# --- connections, Host, bodies

$res = request(GET => '/echo', host => 'www.example.com',
    headers => { 'User-Agent' => undef });
like($res->{body}, qr/host=\[www\.example\.com\] ua=\[\] /,
    'Host override, User-Agent suppressed');
my ($c1) = request(GET => '/echo')->{body} =~ /conn=(\d+)\/(\d+)/;
my ($c2, $n2) = request(GET => '/echo')->{body} =~ /conn=(\d+)\/(\d+)/;
is($c2, $c1, 'keep-alive reuses the connection');
cmp_ok($n2, '>', 1, 'connection_requests grows');
$res = request(GET => '/echo', keep_alive => 0);
my ($c3, $n3) = $res->{body} =~ /conn=(\d+)\/(\d+)/;
isnt($c3, $c2, 'keep_alive => 0 opens a new connection');
is($n3, 1, 'first request on it');
is($res->{headers}{connection}, 'close', 'Connection: close');

$res = request(POST => '/post', json => { b => [1, 2], a => 'x' });
is($res->{body}, "len=19 type=application/json\n", 'json body');
$res = request(POST => '/post', body => 'abc',
    headers => { 'Content-Type' => 'text/plain' });
is($res->{body}, "len=3 type=text/plain\n", 'raw body');
$res = request(HEAD => '/raw');
is_deeply([$res->{status}, $res->{body}, $res->{headers}{'content-length'}],
    [200, '', 6], 'HEAD: headers, no body');

$res = request(GET => '/ssi.html?x=42');
is($res->{headers}{'transfer-encoding'}, 'chunked', 'chunked response');
is($res->{body}, 'a42b', 'chunked body decoded');
$res = request(GET => '/proxy/p?q=1');
is($res->{body}, "backend /p?q=1\n", '%%PORT2%% backend through proxy_pass');
is(read_file($ngx->prefix . '/port.txt'), "backend on " . $ngx->port(2) . "\n",
    'placeholders substituted in files');
isnt($ngx->port, $ngx->port(2), 'two ports');

$res = request(GET => 'http://127.0.0.1:' . free_port() . '/');
is($res->{status}, 599, 'connection refused gives 599');
like($res->{error}, qr/connect/, 'with the error');

# --- raw requests

$res = raw_request($ngx->port, "GET /raw HTTP/1.1\r\nHost: x\r\n"
    . "Connection: close\r\n\r\n");
(my $raw = $res->{raw}) =~ s/^Date: [^\r]+\r\n/Date: D\r\n/m;
is($raw, "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: D\r\n"
    . "Content-Type: text/plain\r\nContent-Length: 6\r\nConnection: close\r\n"
    . "\r\nhello\n", 'raw response bytes exactly');
is_deeply([map { $_->[0] } @{ $res->{header_list} }],
    [qw(Server Date Content-Type Content-Length Connection)],
    'raw headers in order');
$res = raw_request($ngx, "GET /echo HTTP/1.1\r\nHost: x\r\n"
    . "X-Test: \xe4\xbd\xa0\xff\r\nCookie: k=\xfe\"v\r\nConnection: close\r\n\r\n");
like($res->{body}, qr/^cookie=\[k=\xfe"v\] host=\[x\] ua=\[\] x=\[\xe4\xbd\xa0\xff\]/,
    'raw header bytes reach nginx unchanged');
my @two = raw_request($ngx, "GET /raw HTTP/1.1\r\nHost: x\r\n\r\n"
    . "GET /echo HTTP/1.1\r\nHost: y\r\nConnection: close\r\n\r\n",
    responses => 2);
is_deeply([map { $_->{status} } @two], [200, 200], 'pipelined responses');
like($two[1]{body}, qr/host=\[y\]/, 'second pipelined response');
$res = raw_request($ngx, ["GET /raw HT", "TP/1.0\r\n\r\n"], pause => 0.05);
is($res->{body}, "hello\n", 'request sent in parts');
$res = raw_request($ngx, "BROKEN\r\n\r\n");
is($res->{status}, 400, 'malformed request: 400');

# --- nginx -t

my ($rc, $out, $conf) = nginx_test_config(module => 0,
    server => 'location / { no_such_directive on; }');
isnt($rc, 0, 'nginx -t fails on a broken config');
like($out, qr/unknown directive "no_such_directive" in \Q$conf\E:\d+/,
    'nginx -t output names the file and line');
($rc, $out) = nginx_test_config('', module => 0);
is($rc, 0, 'nginx -t passes an empty http body');
like($out, qr/syntax is ok/, 'nginx -t success output');

# --- reload, reopen

my @old = $ngx->worker_pids;
is(scalar @old, 1, 'one worker');
my $r = start_redis();
is($ngx->reload(workers => 2, server => <<'EOF'), 1, 'reload');
        location / { return 200 "v2 redis=%%REDIS_PORT%%\n"; }
EOF
is(request(GET => '/')->{body}, "v2 redis=" . $r->port . "\n",
    'reload changes the response; %%REDIS_PORT%%');
my @new = $ngx->worker_pids;
is(scalar @new, 2, 'two workers after reload');
ok(!(grep { my $o = $_; grep { $_ == $o } @new } @old), 'all workers new');
like($ngx->reload('    server { listen 127.0.0.1:%%PORT%%; bad_directive; }',
    expect_fail => 1), qr/\[emerg\].*unknown directive "bad_directive"/,
    'failed reload returns the [emerg]');
is(request(GET => '/')->{body}, "v2 redis=" . $r->port . "\n",
    'old config still serving');
is_deeply([$ngx->worker_pids], \@new, 'same workers');

rename $ngx->prefix . '/access.log', $ngx->prefix . '/access.log.1';
$ngx->reopen;
request(GET => '/after-reopen');
ok($ngx->wait_access_log(qr{GET /after-reopen }, 5),
    'reopen: new access.log gets new lines');
unlike(read_file($ngx->prefix . '/access.log.1'), qr/after-reopen/,
    'rotated file does not');

# --- redis

is($r->cmd(PING => ()), 'PONG', 'PING');
is($r->cmd(SET => 'k', "v\r\n\0x"), 'OK', 'SET');
is($r->cmd(GET => 'k'), "v\r\n\0x", 'GET binary-safe');
is($r->cmd(GET => 'missing'), undef, 'nil');
is($r->cmd(ZADD => 'z', 1, 'one', 2.5, 'two', 3, 'three'), 3, 'ZADD');
is_deeply($r->cmd(ZRANGEBYSCORE => 'z', 2, '+inf'), ['two', 'three'],
    'ZRANGEBYSCORE +inf');
is_deeply($r->cmd(ZRANGEBYSCORE => 'z', '-inf', '+inf', 'WITHSCORES'),
    ['one', 1, 'two', '2.5', 'three', 3], 'WITHSCORES');
my $id = $r->cmd(XADD => 's', '*', f => 'v');
is_deeply($r->cmd(XRANGE => 's', '-', '+'), [[$id, ['f', 'v']]],
    'nested arrays');
my $err = $r->cmd(INCR => 'k');
ok(is_redis_error($err), 'error reply is a Mkt::Test::RedisError');
like("$err", qr/^ERR /, 'error message');
ok($err ? 1 : 0, 'error is true in boolean context');
is($r->cmd(INCR => 'n'), 1, 'integer');

$r->pause;
$r->timeout(0.3);
ok(!eval { $r->cmd('PING'); 1 }, 'paused redis: cmd times out');
like($@, qr/timeout/, 'timeout error');
$r->resume;
$r->timeout(5);
is($r->cmd('PING'), 'PONG', 'resumed');
my $port = $r->port;
$r->kill;
ok(!eval { $r->cmd('PING'); 1 }, 'killed redis refuses');
$r->restart;
is($r->port, $port, 'restart keeps the port');
is($r->cmd(GET => 'k'), undef, 'restart starts empty');

# --- helpers

my %seen;
$seen{ free_port() }++ for 1 .. 20;
is(scalar keys %seen, 20, 'free_port never repeats');
is(wait_for(sub { 42 }, 1), 42, 'wait_for returns the value');
ok(!wait_for(sub { 0 }, 0.1), 'wait_for gives up');
is_deeply([run_cmd(['sh', '-c', 'cat; echo err >&2; exit 3'],
    stdin => "in\n")], [3, "in\n", "err\n"], 'run_cmd');

# --- the failure scanner

my $log = write_file('crafted.log', join '', map {"$_\n"}
    '2026/01/01 00:00:00 [info] 1#1: *1 client closed connection',
    '2026/01/01 00:00:00 [error] 1#1: *2 open() failed',
    '2026/01/01 00:00:00 [alert] 1#1: worker process 7 exited on signal 11',
    '2026/01/01 00:00:00 [crit] 1#1: something critical',
    '2026/01/01 00:00:00 [emerg] 1#1: bad config',
    '==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x1',
    'src/x.c:10:5: runtime error: signed integer overflow',
    '==123==ERROR: LeakSanitizer: detected memory leaks',
    '2026/01/01 00:00:00 [notice] 1#1: signal 17 (SIGCHLD) received');
my @bad = scan_log($log);
is(scalar @bad, 6, 'scanner flags alert, crit, emerg, ASan, UBSan, LSan');
like($bad[0], qr/\[alert\].*exited on signal 11/, 'first flagged line');
is(scalar(scan_log($log, allow => [qr/\[crit\]/, qr/Sanitizer/])), 3,
    'allow patterns');
like($ngx->error_log, qr/\[emerg\].*bad_directive/,
    'the failed reload logged an [emerg]');
is_deeply([$ngx->problems], [], 'which is allowed, being expected');

# A test file whose nginx worker dies must fail, with and without finish().
my $crash = write_file('crash.pl', <<'EOF');
use strict; use warnings; use Test::More; use Mkt::Test;
my $n = start_nginx(module => 0, server => 'location / { return 200 "ok\n"; }');
my ($w) = $n->worker_pids;
kill 'KILL', $w;
wait_for(sub { $n->error_log =~ /exited on signal 9/ }, 5);
is(request(GET => '/')->{status}, 200, 'a new worker serves');
$ARGV[0] eq 'finish' ? finish() : done_testing();
EOF
for my $how (qw(finish done_testing)) {
    my ($code, $o, $e) = run_cmd([$^X, "-I$LIB", $crash, $how],
        env => { MKT_KEEP => '' });
    isnt($code, 0, "crashed worker fails the test file ($how)");
    like($e, qr/exited on signal 9/, "and is reported ($how)");
    like($o, qr/^ok 1 - a new worker serves$/m, "its own test passed ($how)");
}

# SIGTERM to a test file still stops its nginx and redis.
my $idle = write_file('idle.pl', <<'EOF');
use strict; use warnings; use Test::More; use Mkt::Test;
my $n = start_nginx(module => 0, workers => 2,
    server => 'location / { return 200; }');
my $r = start_redis();
write_file($ARGV[0], join ' ', test_dir(), $n->pid, $n->worker_pids, $r->pid);
sleep 30;
EOF
my $pids = test_dir() . '/idle.pids';
my $child = fork // die "fork: $!";
if (!$child) {
    open STDOUT, '>', test_dir() . '/idle.out';
    open STDERR, '>&', \*STDOUT;
    exec($^X, "-I$LIB", $idle, $pids) or POSIX::_exit(127);
}
ok(wait_for(sub { -s $pids }, 10), 'child started nginx and redis');
my ($dir, @procs) = split ' ', read_file($pids);
is(scalar @procs, 4, 'master, 2 workers, redis');
kill 'TERM', $child;
ok(wait_for(sub { waitpid($child, POSIX::WNOHANG()) == $child }, 15), 'child exited');
ok(wait_for(sub { !grep { kill 0, $_ } @procs }, 5),
    'no nginx or redis process left');
ok(!-d $dir, 'its temp dir removed');

finish();

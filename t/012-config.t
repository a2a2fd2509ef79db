# Configuration checks: what nginx -t accepts, warns about and rejects.
use strict;
use warnings;
use Test::More;
use Mkt::Test;

sub conf_ok {
    my ($name, $http, $want) = @_;
    my ($rc, $out) = nginx_test_config(http => $http);
    is $rc, 0, "$name: nginx -t passes" or diag $out;
    like $out, $want, "$name: output" if $want;
    return $out;
}

sub conf_fails {
    my ($name, $http, $want) = @_;
    my ($rc, $out, $conf) = nginx_test_config(http => $http);
    isnt $rc, 0, "$name: nginx -t fails";
    like $out, $want, "$name: message";
    like $out, qr/\Q$conf\E:\d+/, "$name: names the config file and line";
}

my $server = "server { listen 127.0.0.1:%%PORT%%; mkt on; "
    . "location / { return 204; } }";

my $out = conf_ok('no secret', $server,
    qr/\[warn\] "mkt_secret" is not set: mkt cookies are unsigned/);

$out = conf_ok('secret set', qq{mkt_secret "0123456789abcdef"; $server});
unlike $out, qr/unsigned/, 'secret set: no warning';

$out = conf_ok('no mkt on, no warning', 'server { listen 127.0.0.1:%%PORT%%; }');
unlike $out, qr/unsigned/, 'module unused: no warning';

my $dir = test_dir();
write_file("$dir/good.secret", "0123456789abcdef0123\n");
write_file("$dir/short.secret", "short\n");
conf_ok('secret file', qq{mkt_secret_file $dir/good.secret; $server});

conf_fails('missing secret file', qq{mkt_secret_file $dir/none.secret;},
    qr/\[emerg\] open\(\) "\Q$dir\E\/none\.secret" failed/);
SKIP: {
    skip 'root reads any file', 2 if $> == 0;
    write_file("$dir/locked.secret", "0123456789abcdef0123\n");
    chmod 0, "$dir/locked.secret";
    conf_fails('unreadable secret file',
        qq{mkt_secret_file $dir/locked.secret;},
        qr/\[emerg\] open\(\) "\Q$dir\E\/locked\.secret" failed/);
}
conf_fails('short secret file', qq{mkt_secret_file $dir/short.secret;},
    qr/\[emerg\] secret file "\Q$dir\E\/short\.secret" must hold at least 16 bytes/);
conf_fails('short secret', 'mkt_secret "tooshort";',
    qr/\[emerg\] mkt secret must be at least 16 bytes long/);
conf_fails('two secrets', 'mkt_secret "0123456789abcdef"; '
    . qq{mkt_secret_file $dir/good.secret;}, qr/"mkt_secret_file" directive is duplicate/);

conf_fails('unknown mkt_cookie parameter', 'mkt_cookie name=x foo=bar;',
    qr/\[emerg\] invalid parameter "foo=bar"/);
conf_fails('bad cookie name', 'mkt_cookie name=a@b;',
    qr/\[emerg\] invalid parameter "name=a\@b"/);
conf_fails('bad cookie name characters', 'mkt_cookie "name=a b";',
    qr/\[emerg\] invalid parameter "name=a b"/);
conf_fails('bad path', 'mkt_cookie path=shop;',
    qr/\[emerg\] invalid parameter "path=shop"/);
conf_fails('bad max_age', 'mkt_cookie max_age=forever;',
    qr/\[emerg\] invalid parameter "max_age=forever"/);
conf_fails('bad secure', 'mkt_cookie secure=maybe;',
    qr/\[emerg\] invalid parameter "secure=maybe"/);
conf_fails('bad samesite', 'mkt_cookie samesite=loose;',
    qr/\[emerg\] invalid parameter "samesite=loose"/);
conf_fails('samesite=none without secure',
    'mkt_cookie samesite=none secure=off;',
    qr/\[emerg\] "samesite=none" requires a secure cookie/);
conf_ok('samesite=none with secure=auto',
    qq{mkt_secret "0123456789abcdef"; mkt_cookie samesite=none; $server});
conf_fails('mkt_secret in server', 'server { mkt_secret "0123456789abcdef"; }',
    qr/"mkt_secret" directive is not allowed here/);
conf_fails('mkt bad flag', 'mkt maybe;', qr/invalid value "maybe"/);

finish();

# Without mkt_secret the cookie is "1.VID.ISSUED" and still keeps the id.
use strict;
use warnings;
use Test::More;
use Mkt::Test;

start_nginx(http => <<'EOF2');
    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        location / {
            add_header X-Vid $mkt_vid always;
            add_header X-New $mkt_new always;
            return 204;
        }
    }
EOF2

my $jar = new_jar();
my $res = request('GET', '/', jar => $jar);
my ($sc) = grep { $_->{name} eq '_mkt' } @{ $res->{set_cookies} };
like $sc->{value}, qr/\A1\.([A-Za-z0-9_-]{22})\.[0-9a-z]{1,8}\z/,
    'unsigned cookie value: 1.VID.ISSUED';
my ($vid) = $sc->{value} =~ /\A1\.([^.]+)/;
is $res->{headers}{'x-vid'}, $vid, 'id from the unsigned cookie';

$res = request('GET', '/', jar => $jar);
is $res->{headers}{'x-vid'}, $vid, 'returning visit keeps the id';
is $res->{headers}{'x-new'}, '0', 'and is not new';

$res = request('GET', '/', headers => ['Cookie' => '_mkt=1.short.abc']);
isnt $res->{headers}{'x-vid'}, $vid, 'a malformed value is still rejected';
is $res->{headers}{'x-new'}, '1', 'as a new visitor';

finish();

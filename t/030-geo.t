# Geo from mkt_geoip2: $mkt_geo_* through the realip module and through
# source=, IPv6 and IPv4-mapped addresses, unknown addresses, the "geo"
# attribute in experiment conditions, one lookup per request, corrupt data
# at lookup time, nginx -t on bad files, and a reload with a replaced file.
# The databases are in tests/data/maxmind (see its README.md).
use strict;
use warnings;
use Test::More;
use File::Basename qw(dirname);
use File::Spec;
use JSON::PP;
use Mkt::Test;

my $DATA = File::Spec->rel2abs(dirname(__FILE__) . '/../tests/data/maxmind');
my %DB = map { ($_ => read_file("$DATA/$_") // die "$DATA/$_: $!\n") } qw(
    GeoIP2-City-Test.mmdb GeoIP2-City-Test-Broken-Double-Format.mmdb
    GeoIP2-City-Test-Invalid-Node-Count.mmdb GeoLite2-Country-Test.mmdb
    mkt-test-city.mmdb mkt-test-geo-ipv4.mmdb mkt-test-corrupt.mmdb
    mkt-test-asn.mmdb);

my $EXPERIMENTS = JSON::PP->new->canonical->encode({ experiments => [
    { key => 'cn-only', variations => ['a', 'b'], weights => [0, 1],
      condition => { 'geo.country' => 'CN' } },
    { key => 'gd-shenzhen', variations => ['x', 'y'], weights => [0, 1],
      condition => { 'geo.region' => 'GD', 'geo.city' => 'Shenzhen' } },
    { key => 'no-country', variations => ['n0', 'n1'], weights => [0, 1],
      condition => { 'geo.country' => { '$exists' => JSON::PP::false } } },
] });

my $LOCATIONS = <<'EOF';
        location / {
            add_header X-Country $mkt_geo_country always;
            return 200 "c=$mkt_geo_country r=$mkt_geo_region ci=$mkt_geo_city e=$mkt_exp_cn_only,$mkt_exp_gd_shenzhen,$mkt_exp_no_country\n";
        }
        location /redirect { try_files /nonexistent @named; }
        location @named {
            return 200 "c=$mkt_geo_country r=$mkt_geo_region ci=$mkt_geo_city\n";
        }
        location /off {
            mkt off;
            return 200 "c=$mkt_geo_country\n";
        }
        location = /status { mkt off; mkt_status; }
EOF

sub geo_nginx {
    my (%o) = @_;
    my $source = $o{source} ? " source=$o{source}" : '';
    my $realip = $o{source} ? '' : <<'EOF';
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
EOF
    return start_nginx(
        files => { 'geo.mmdb' => \$DB{ $o{db} }, 'exp.json' => $EXPERIMENTS },
        http => <<"EOF",
    mkt_secret "geo-secret-0123456789abcdef";
    mkt_geoip2 geo.mmdb$source;
    mkt_config exp.json;
$realip
    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
$LOCATIONS
    }
EOF
    );
}

sub from {
    my ($header, $addr, $path) = @_;
    my $res = request(GET => $path // '/',
        headers => defined $addr ? { $header => $addr } : {});
    is $res->{status}, 200, "$header: " . ($addr // 'none') . ': served';
    return $res->{body};
}

sub xff { from('X-Forwarded-For', @_) }

sub status {
    my $res = request(GET => '/status');
    return decode_json($res->{body});
}

sub geo_counters {
    my ($s) = @_;
    return join ' ', map { "$_=$s->{$_}" }
        qw(geo_lookups geo_not_found geo_bad_address geo_errors);
}

# --- the client address as the realip module sets it ----------------------

my $ngx = geo_nginx(db => 'mkt-test-city.mmdb');

is xff('113.108.1.1'), "c=CN r=GD ci=Shenzhen e=b,y,\n", 'IPv4: Shenzhen';
is xff('202.96.128.86'), "c=CN r=GD ci=Guangzhou e=b,,\n", 'IPv4: Guangzhou';
is xff('114.114.114.114'), "c=CN r=JS ci=Nanjing e=b,,\n", 'IPv4: Nanjing';
is xff('61.128.101.9'), "c=CN r=XJ ci=\xc3\x9cr\xc3\xbcmqi e=b,,\n",
    'UTF-8 city name as bytes';
is xff('203.0.113.7'), "c=HK r= ci=Hong Kong e=,,\n", 'no region';
is xff('8.8.8.8'), "c=US r=CA ci=Mountain View e=,,\n",
    'not CN: not in cn-only';
is xff('240e:ff::1'), "c=CN r=GD ci=Shenzhen e=b,y,\n", 'IPv6';
is xff('2400:da00::6666'), "c=CN r=BJ ci=Beijing e=b,,\n", 'IPv6: Beijing';
is xff('::ffff:113.108.1.1'), "c=CN r=GD ci=Shenzhen e=b,y,\n",
    'IPv4-mapped IPv6 in a database without the alias';
is xff('10.1.2.3'), "c= r= ci= e=,,n1\n", 'unknown address: empty';
is xff(undef), "c= r= ci= e=,,n1\n", '127.0.0.1 itself: empty';
is xff('198.51.100.17'), "c=CN r=GD ci= e=b,,\n", 'oversized city: empty';

my $res = request(GET => '/', headers => { 'X-Forwarded-For' => '8.8.8.8' });
is $res->{headers}{'x-country'}, 'US', 'add_header sees it too';

is xff('113.108.1.1', '/redirect'), "c=CN r=GD ci=Shenzhen\n",
    'kept across an internal redirect';
is xff('113.108.1.1', '/off'), "c=\n", 'mkt off: not found, empty';

my $before = status();
xff('113.108.1.1');
xff('113.108.1.1', '/redirect');
xff('10.9.9.9');
my $after = status();
is $after->{geo_lookups} - $before->{geo_lookups}, 3,
    'one lookup per request: variables, header, conditions, redirect';
is $after->{geo_not_found} - $before->{geo_not_found}, 1,
    'unknown address counted';
is geo_counters($after), 'geo_lookups=17 geo_not_found=3 geo_bad_address=0 '
    . 'geo_errors=0', 'counters since start';

$res = request(GET => '/status?format=prometheus');
like $res->{body}, qr/^mkt_geo_lookups_total 17$/m, 'prometheus counter';

# --- source=$variable --------------------------------------------------------

my $src = geo_nginx(db => 'mkt-test-city.mmdb',
    source => '$http_x_client_ip');

is from('X-Client-IP', '113.108.1.1'), "c=CN r=GD ci=Shenzhen e=b,y,\n",
    'source: the header';
is from('X-Client-IP', '::ffff:202.96.128.86'),
    "c=CN r=GD ci=Guangzhou e=b,,\n", 'source: IPv4-mapped';
is from('X-Client-IP', '2400:da00::1'), "c=CN r=BJ ci=Beijing e=b,,\n",
    'source: IPv6';
is from('X-Forwarded-For', '113.108.1.1'), "c= r= ci= e=,,n1\n",
    'source: X-Forwarded-For is not read';
is from('X-Client-IP', 'not-an-ip'), "c= r= ci= e=,,n1\n",
    'source: garbage is empty';
is from('X-Client-IP', '113.108.1.1, 8.8.8.8'), "c= r= ci= e=,,n1\n",
    'source: a list is not an address';
is geo_counters(status()), 'geo_lookups=6 geo_not_found=0 '
    . 'geo_bad_address=3 geo_errors=0', 'source: counters';
my @info = grep { /mkt_geoip2:/ } split /\n/, $src->error_log;
is scalar(@info), 1, 'bad addresses: logged once a minute at most';
like $info[0], qr/\[info\] .*mkt_geoip2: \$http_x_client_ip is empty or not an IP address; served without geo \(0 more not logged since the previous report\)/,
    'bad addresses: the message names the source, not the value';

# --- corrupt data found by a lookup ----------------------------------------

my $bad = geo_nginx(db => 'mkt-test-corrupt.mmdb');

is xff('10.0.42.1'), "c=CN r=GD ci=Filler 42 e=b,,\n", 'corrupt file: '
    . 'good records answer';
is xff('223.5.5.5'), "c= r= ci= e=,,n1\n", 'corrupt record: empty, served';
is xff('223.5.5.6'), "c= r= ci= e=,,n1\n", 'corrupt record again';
is geo_counters(status()), 'geo_lookups=3 geo_not_found=0 '
    . 'geo_bad_address=0 geo_errors=2', 'corrupt record: counted';
my $file = $bad->prefix . '/geo.mmdb';
my @err = grep { /mkt_geoip2:/ } split /\n/, $bad->error_log;
is scalar(@err), 1, 'corrupt record: logged once';
like $err[0], qr/\[error\] .*mkt_geoip2: lookup in "\Q$file\E" failed: The MaxMind DB file's data section contains bad data \(unknown data type or corrupt data\); served without geo \(0 more not logged since the previous report\)/,
    'corrupt record: the message';

# --- reload with a replaced file --------------------------------------------

$ngx = geo_nginx(db => 'GeoIP2-City-Test.mmdb');

is xff('81.2.69.142'), "c=GB r=ENG ci=London e=,,\n", 'MaxMind: London';
is xff('2.125.160.216'), "c=GB r=ENG ci=Boxford e=,,\n",
    'MaxMind: first subdivision';
is xff('2001:480:10::1'), "c=US r=CA ci=San Diego e=,,\n", 'MaxMind: IPv6';
is xff('::ffff:81.2.69.142'), "c=GB r=ENG ci=London e=,,\n",
    'MaxMind: IPv4-mapped';
is xff('175.16.199.1'), "c=CN r=22 ci=Changchun e=b,,\n",
    'MaxMind: a Chinese address';
is xff('113.108.1.1'), "c= r= ci= e=,,n1\n", 'MaxMind: not ours';

# replaced the way geoipupdate does it: a new file renamed over the old one
$ngx->write_file('geo.mmdb.new', $DB{'mkt-test-city.mmdb'});
rename $ngx->prefix . '/geo.mmdb.new', $ngx->prefix . '/geo.mmdb' or die $!;
$ngx->reload;

is xff('113.108.1.1'), "c=CN r=GD ci=Shenzhen e=b,y,\n",
    'after reload: the new file';
is xff('81.2.69.142'), "c= r= ci= e=,,n1\n", 'after reload: not the old one';

$ngx->write_file('geo.mmdb.new',
    $DB{'GeoIP2-City-Test-Broken-Double-Format.mmdb'});
rename $ngx->prefix . '/geo.mmdb.new', $ngx->prefix . '/geo.mmdb' or die $!;
$file = $ngx->prefix . '/geo.mmdb';
my $emerg = $ngx->reload(expect_fail => 1);
like $emerg, qr/\[emerg\] .*MaxMind DB "\Q$file\E" is corrupt: The MaxMind DB file's data section contains bad data/,
    'reload with a corrupt file: refused';
is xff('113.108.1.1'), "c=CN r=GD ci=Shenzhen e=b,y,\n",
    'reload refused: the old workers still serve the old file';

# --- nginx -t ----------------------------------------------------------------

my $dir = test_dir();
write_file("$dir/garbage.mmdb", "not a database\n");
write_file("$dir/$_", $DB{$_}) for keys %DB;

nginx_test_fails('missing file', "mkt_geoip2 $dir/missing.mmdb;",
    qr/\[emerg\] cannot open MaxMind DB "\Q$dir\E\/missing\.mmdb": No such file or directory/);
nginx_test_fails('a directory', "mkt_geoip2 $dir;",
    qr/\[emerg\] cannot open MaxMind DB "\Q$dir\E": not a regular file/);
nginx_test_fails('not a database', "mkt_geoip2 $dir/garbage.mmdb;",
    qr/\[emerg\] "\Q$dir\E\/garbage\.mmdb" is not a valid MaxMind DB: The MaxMind DB file contains invalid metadata/);
nginx_test_fails('invalid metadata',
    "mkt_geoip2 $dir/GeoIP2-City-Test-Invalid-Node-Count.mmdb;",
    qr/\[emerg\] "\Q$dir\E\/GeoIP2-City-Test-Invalid-Node-Count\.mmdb" is not a valid MaxMind DB: The MaxMind DB file contains invalid metadata/);
nginx_test_fails('corrupt data',
    "mkt_geoip2 $dir/GeoIP2-City-Test-Broken-Double-Format.mmdb;",
    qr/\[emerg\] MaxMind DB "\Q$dir\E\/GeoIP2-City-Test-Broken-Double-Format\.mmdb" is corrupt: The MaxMind DB file's data section contains bad data \(unknown data type or corrupt data\)/);
nginx_test_fails('wrong type', "mkt_geoip2 $dir/mkt-test-asn.mmdb;",
    qr/\[emerg\] MaxMind DB "\Q$dir\E\/mkt-test-asn\.mmdb" of type "Mkt-Test-ASN" has no country data: expected a GeoIP2 or GeoLite2 City or Country database/);
nginx_test_fails('source without $',
    "mkt_geoip2 $dir/mkt-test-city.mmdb source=http_x_client_ip;",
    qr/\[emerg\] invalid parameter "source=http_x_client_ip"/);
nginx_test_fails('unknown parameter', "mkt_geoip2 $dir/mkt-test-city.mmdb foo=bar;",
    qr/\[emerg\] invalid parameter "foo=bar"/);
nginx_test_fails('two sources', "mkt_geoip2 $dir/mkt-test-city.mmdb "
    . 'source=$http_a source=$http_b;',
    qr/\[emerg\] invalid number of arguments in "mkt_geoip2" directive/);
nginx_test_fails('duplicate', "mkt_geoip2 $dir/mkt-test-city.mmdb; "
    . "mkt_geoip2 $dir/mkt-test-city.mmdb;",
    qr/"mkt_geoip2" directive is duplicate/);
nginx_test_fails('in a server', "server { mkt_geoip2 $dir/mkt-test-city.mmdb; }",
    qr/"mkt_geoip2" directive is not allowed here/);

for my $f (qw(GeoLite2-Country-Test.mmdb mkt-test-geo-ipv4.mmdb)) {
    my ($rc, $out) = nginx_test_config(http => "mkt_geoip2 $dir/$f;");
    is $rc, 0, "$f passes" or diag $out;
}
my ($rc, $out) = nginx_test_config(http =>
    "mkt_geoip2 $dir/mkt-test-city.mmdb source=\$http_x_client_ip;");
is $rc, 0, 'a source passes' or diag $out;

# --- our test databases are what the script writes --------------------------

SKIP: {
    my ($has) = run_cmd(['perl', '-MMaxMind::DB::Writer::Tree', '-e', '1']);
    skip 'libmaxmind-db-writer-perl is not installed', 5 if $has != 0;
    my $gen = "$dir/generated";
    mkdir $gen or die "$gen: $!";
    my ($exit, undef, $stderr) = run_cmd(['perl',
        "$DATA/write-mkt-test-dbs.pl", $gen]);
    is $exit, 0, 'write-mkt-test-dbs.pl runs' or diag $stderr;
    for my $f (qw(mkt-test-city.mmdb mkt-test-geo-ipv4.mmdb
                  mkt-test-corrupt.mmdb mkt-test-asn.mmdb)) {
        ok read_file("$gen/$f") eq $DB{$f},
            "$f is what write-mkt-test-dbs.pl writes";
    }
}

finish();

#!/usr/bin/perl
# Writes the project's own small MaxMind DB files (Chinese addresses and edge
# cases MaxMind's test databases lack) with libmaxmind-db-writer-perl.
# Output is byte-for-byte reproducible (fixed build epoch), so the checked-in
# files can be compared with a fresh run:
#
#     perl tests/data/maxmind/write-mkt-test-dbs.pl [OUTDIR]   # default: here
#
# What each file holds is listed in tests/data/maxmind/README.md.
use strict;
use warnings;
use utf8;
use File::Basename qw(dirname);
use MaxMind::DB::Writer::Tree;

my $out = shift // dirname(__FILE__);
my $EPOCH = 1767225600;    # 2026-01-01T00:00:00Z

my %TYPES = (
    country => 'map', registered_country => 'map', city => 'map',
    names => 'map', subdivisions => ['array', 'map'],
    iso_code => 'utf8_string', en => 'utf8_string', 'zh-CN' => 'utf8_string',
    autonomous_system_number => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

sub tree {
    my (%o) = @_;
    my $t = MaxMind::DB::Writer::Tree->new(
        ip_version => $o{ip_version}, record_size => 24,
        database_type => $o{type}, languages => ['en', 'zh-CN'],
        description => { en => "ngx_mkt test data: $o{type}" },
        # no ::ffff:0:0/96 alias: the reader must map IPv4-mapped IPv6
        # addresses itself
        alias_ipv6_to_ipv4 => 0,
        # TEST-NET ranges hold the edge cases
        remove_reserved_networks => 0,
        map_key_type_callback => sub {
            $TYPES{ $_[0] } // die "no type for key $_[0]\n";
        },
    );
    $t->_set_build_epoch($EPOCH);
    return $t;
}

sub place {
    my ($country, $region, $city, $zh) = @_;
    my %r;
    $r{country} = { iso_code => $country, names => { en => $country } }
        if defined $country;
    $r{subdivisions} = [{ iso_code => $region }] if defined $region;
    $r{city} = { names => { en => $city, ($zh ? ('zh-CN' => $zh) : ()) } }
        if defined $city;
    return \%r;
}

sub write_db {
    my ($t, $name) = @_;
    open my $fh, '>:raw', "$out/$name.tmp" or die "$out/$name.tmp: $!\n";
    $t->write_tree($fh);
    close $fh or die "$out/$name.tmp: $!\n";
    rename "$out/$name.tmp", "$out/$name" or die "$out/$name: $!\n";
}

# --- mkt-test-city.mmdb: a City database, IPv6 tree
my @city = (
    ['113.108.0.0/16',   place('CN', 'GD', 'Shenzhen', '深圳')],
    ['202.96.128.0/24',  place('CN', 'GD', 'Guangzhou', '广州')],
    ['114.114.114.0/24', place('CN', 'JS', 'Nanjing', '南京')],
    ['61.128.101.0/24',  place('CN', 'XJ', 'Ürümqi', '乌鲁木齐')],
    ['203.0.113.0/24',   place('HK', undef, 'Hong Kong')],
    ['8.8.8.0/24',       place('US', 'CA', 'Mountain View')],
    ['240e:ff::/32',     place('CN', 'GD', 'Shenzhen', '深圳')],
    ['2400:da00::/32',   place('CN', 'BJ', 'Beijing', '北京')],
    # edge cases
    ['198.51.100.0/28',  place('CN', 'GD', "Bad\x01City\x7f")],
    ['198.51.100.16/28', place('CN', 'GD', 'x' x 200)],
    ['198.51.100.32/28', place('CHN', 'GUANGDONG', 'Shenzhen')],
    ['198.51.100.48/28', { country => { iso_code => 'CN' },
                           subdivisions => [] }],
    ['198.51.100.64/28', { registered_country => { iso_code => 'CN' } }],
    ['198.51.100.80/28', place('CN', 'GD', 'Σ' x 63 . 'a')],  # 127 bytes
    ['198.51.100.96/28', place('CN', 'GD', 'Σ' x 64)],             # 128 bytes
);
my $t = tree(ip_version => 6, type => 'Mkt-Test-City');
$t->insert_network(@$_) for @city;
write_db($t, 'mkt-test-city.mmdb');

# --- mkt-test-geo-ipv4.mmdb: an IPv4 tree whose type names no City or
# Country, accepted for the country data it holds
$t = tree(ip_version => 4, type => 'Mkt-Test-Geo-IPv4');
$t->insert_network('113.108.0.0/16', place('CN', 'GD', 'Shenzhen'));
write_db($t, 'mkt-test-geo-ipv4.mmdb');

# --- mkt-test-asn.mmdb: the wrong kind of database (no location at all)
$t = tree(ip_version => 4, type => 'Mkt-Test-ASN');
$t->insert_network('113.108.0.0/16', { autonomous_system_number => 4134,
    autonomous_system_organization => 'CHINANET-BACKBONE' });
write_db($t, 'mkt-test-asn.mmdb');

# --- mkt-test-corrupt.mmdb: valid metadata and a valid first part, but the
# record of 223.5.5.0/24 has a corrupt city name, past what opening checks
# (the first 64 records), so only a lookup of it finds the damage
$t = tree(ip_version => 6, type => 'Mkt-Test-City');
$t->insert_network("10.0.$_.0/24", place('CN', 'GD', "Filler $_"))
    for 0 .. 99;
$t->insert_network('223.5.5.0/24', place('CN', 'ZJ', 'CORRUPT!'));
my $db = '';
open my $fh, '>:raw', \$db or die;
$t->write_tree($fh);
close $fh;
# a utf8_string of 8 bytes has the control byte 0x48 (type 2 << 5 | 8);
# 0x08 makes it an extended type whose number (7 + 'C') does not exist
my $at = index $db, "\x48CORRUPT!";
die "marker not found\n" if $at < 0 || index($db, "CORRUPT!", $at + 2) >= 0;
substr($db, $at, 1) = "\x08";
open $fh, '>:raw', "$out/mkt-test-corrupt.mmdb" or die "$out: $!\n";
print $fh $db;
close $fh or die "$out: $!\n";

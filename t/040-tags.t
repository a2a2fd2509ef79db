# Tags from Redis on nginx's event loop: read for the user id and the
# visitor id in one round trip, merged, expired ones ignored, cached in
# shared memory (a hit makes no Redis call), usable by "set"/"if" in the
# same location and by experiment conditions; the alias write; AUTH/SELECT.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use Mkt::Test;

my $SECRET = 'tags-secret-0123456789abcdef';

my $redis = start_redis();
my $now = time;

$redis->cmd(ZADD => 'mkt:tags:u42', '+inf', 'vip', $now + 3600, 'new_mom',
            $now - 10, 'expired');
$redis->cmd(ZADD => 'mkt:tags:u7', $now + 2, 'flash');

my $exp = encode_json({
    experiments => [
        { key => 'vip-only', variations => ['c', 't'], weights => [0, 1],
          condition => { tags => { '$elemMatch' => { '$eq' => 'vip' } } } },
    ],
});

my $ngx = start_nginx(
    files => { 'exp.json' => $exp },
    http => <<"EOF");
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
    mkt_tags_cache zone=tags:1m ttl=30s negative_ttl=10s;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        mkt_user_id \$http_x_user_id;

        location / {
            set \$seen "none";
            if (\$mkt_tags ~ "vip") {
                set \$seen "vip";
            }
            add_header X-Tags \$mkt_tags always;
            add_header X-Seen \$seen always;
            add_header X-Exp \$mkt_exp_vip_only always;
            return 200 "ok\\n";
        }

        location /named/ {
            try_files /nonexistent \@named;
        }

        location \@named {
            add_header X-Tags \$mkt_tags always;
            return 200 "named\\n";
        }

        location = /status {
            mkt_status;
        }
    }
EOF

sub status {
    my $res = request(GET => '/status');
    return decode_json($res->{body});
}

sub calls {
    my ($cmd) = @_;
    my $info = $redis->cmd(INFO => 'commandstats');
    return $info =~ /^cmdstat_\Q$cmd\E:calls=(\d+)/m ? $1 : 0;
}

# a new visitor without a user id: nothing to read
my $jar = new_jar();
my $res = request(GET => '/', jar => $jar);
is($res->{status}, 200, 'new visitor served');
is($res->{headers}{'x-tags'}, undef, 'no tags for a new visitor');
is(calls('zrangebyscore'), 0, 'no Redis read for an id minted now');

# a known user: tags read, expired ones ignored, seen by if/set
$res = request(GET => '/', jar => $jar, headers => { 'X-User-Id' => 'u42' });
is($res->{status}, 200, 'known user served');
# in Redis's order: by score (expiry), so never-expiring tags last
is($res->{headers}{'x-tags'}, 'new_mom,vip', 'user tags, expired dropped');
is($res->{headers}{'x-seen'}, 'vip', '"if" in the same location sees tags');
is($res->{headers}{'x-exp'}, 't', 'experiment condition on tags holds');
is(calls('zrangebyscore'), 2, 'user id and visitor id read');
is(calls('set'), 1, 'alias written');
my $vid = $jar->cookie('_mkt');
$vid =~ s/^1\.([^.]+)\..*/$1/;
is($redis->cmd(GET => "mkt:alias:$vid"), 'u42', 'alias points to the user');
my $ttl = $redis->cmd(TTL => "mkt:alias:$vid");
ok($ttl > 400 * 86400 - 60 && $ttl <= 400 * 86400, "alias TTL 400 days ($ttl)");

# the same again: all from the cache, no Redis call, alias not rewritten
$res = request(GET => '/', jar => $jar, headers => { 'X-User-Id' => 'u42' });
is($res->{headers}{'x-tags'}, 'new_mom,vip', 'cached tags');
is(calls('zrangebyscore'), 2, 'cache hit: no Redis read');
is(calls('set'), 1, 'alias not written twice in a day');

my $s = status();
is($s->{tags_cache_hits}, 2, 'two cache hits counted');
is($s->{aliases_written}, 1, 'one alias counted');

# the visitor's own tags merge with the user's
$redis->cmd(ZADD => "mkt:tags:$vid", '+inf', 'browser_tag', '+inf', 'vip');
$res = request(GET => '/', jar => $jar);
# the visitor id's negative entry is cached (negative_ttl=10s)
is($res->{headers}{'x-tags'}, undef, 'negative cache entry still holds');
my $jar2 = new_jar();
$jar2->set('_mkt', $jar->cookie('_mkt'));
$res = request(GET => '/', jar => $jar2, headers => { 'X-User-Id' => 'u7' });
is($res->{headers}{'x-tags'}, 'flash', 'another user, visitor id cached empty');

# an internal redirect to a named location reuses the tags: no second read
$redis->cmd(ZADD => 'mkt:tags:u-named', '+inf', 'named_tag');
my $reads = calls('zrangebyscore');
$res = request(GET => '/named/x', headers => { 'X-User-Id' => 'u-named' });
is($res->{body}, "named\n", 'served by the named location');
is($res->{headers}{'x-tags'}, 'named_tag', 'tags after the redirect');
is(calls('zrangebyscore') - $reads, 1, 'one read for the user id, not two');

# many requests at once for one uncached id: one Redis read (no stampede)
$redis->cmd(ZADD => 'mkt:tags:u-herd', '+inf', 'herd');
$reads = calls('zrangebyscore');
my @socks;
for (1 .. 50) {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ngx->port) or die $!;
    push @socks, $sock;
}
print {$_} "GET / HTTP/1.1\r\nHost: localhost\r\nX-User-Id: u-herd\r\n"
    . "Connection: close\r\n\r\n" for @socks;
my $herd = 0;
for my $sock (@socks) {
    local $/;
    my $text = <$sock> // '';
    $herd++ if $text =~ /^X-Tags: herd\r$/mi;
}
is($herd, 50, 'all 50 got the tags');
is(calls('zrangebyscore') - $reads, 1, 'with one Redis read');

# tags Redis holds with names the module refuses: skipped and counted,
# once per read (not again from the cache)
$redis->cmd(ZADD => 'mkt:tags:u-odd', '+inf', 'ok_tag', '+inf', 'has,comma',
            '+inf', 'x' x 65, '+inf', "ctl\x01", '+inf', "\xff\xfe");
$s = status();
is($s->{bad_tags}, 0, 'bad_tags: none before');
$res = request(GET => '/', headers => { 'X-User-Id' => 'u-odd' });
is($res->{headers}{'x-tags'}, 'ok_tag', 'only the valid tag is kept');
is(status()->{bad_tags}, 4, 'bad_tags: a comma, 65 bytes, a control, '
   . 'invalid UTF-8');
$res = request(GET => '/', headers => { 'X-User-Id' => 'u-odd' });
is($res->{headers}{'x-tags'}, 'ok_tag', 'the valid tag from the cache');
is(status()->{bad_tags}, 4, 'bad_tags: not counted again on a cache hit');
like(request(GET => '/status?format=prometheus')->{body},
     qr/^mkt_bad_tags_total 4$/m, 'prometheus: mkt_bad_tags_total');

# a tag expiring in Redis stops applying without waiting for the cache TTL
sleep 3;
$res = request(GET => '/', jar => $jar2, headers => { 'X-User-Id' => 'u7' });
is($res->{headers}{'x-tags'}, undef, 'tag gone at its expiry score');

finish();

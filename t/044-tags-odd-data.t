# Tags from Redis when the data or the server is odd: a key of the wrong
# type, an alias write Redis refuses (both served, counted and logged once,
# not per request), a reply far larger than any tag set (bounded: the
# worker does not grow with it), a member far longer than a tag (skipped,
# the connection kept); and the merge of the user's and the
# visitor's tags, the alias and its TTL, privacy, ids that need care.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;
use Mkt::FakeRedis;

my $SECRET = 'review-secret-0123456789abcdef';

sub http_conf {
    my ($redis_line) = @_;
    return <<"EOF";
    mkt_secret "$SECRET";
    $redis_line
    mkt_tags_cache zone=tags:1m ttl=30s negative_ttl=10s;

    server {
        listen 127.0.0.1:%%PORT%%;
        mkt on;
        mkt_user_id \$http_x_user_id;

        location / {
            add_header X-Tags \$mkt_tags always;
            add_header X-Vid \$mkt_vid always;
            return 200 "ok\\n";
        }

        location = /status {
            mkt_status;
        }
    }
EOF
}

sub status { decode_json(request(GET => '/status')->{body}) }

sub calls {
    my ($redis, $cmd) = @_;
    my $info = $redis->cmd(INFO => 'commandstats');
    return $info =~ /^cmdstat_\Q$cmd\E:calls=(\d+)/m ? $1 : 0;
}

sub log_lines {
    my ($ngx, $re) = @_;
    return scalar(() = $ngx->error_log =~ /$re/g);
}

my $redis = start_redis();
my $now = time;
my ($ngx, $res, $s);

# --- a key of the wrong type: served, counted, logged once ------------------

$redis->cmd(SET => 'mkt:tags:u-str', 'not a zset');
$redis->cmd(HSET => 'mkt:tags:u-hash', 'vip', '1');

$ngx = start_nginx(http_conf(
    'mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;'));

for my $uid (qw(u-str u-hash u-str)) {
    $res = request(GET => '/', headers => { 'X-User-Id' => $uid });
    is($res->{status}, 200, "$uid: served");
    is($res->{headers}{'x-tags'}, undef, "$uid: no tags");
}
$s = status();
is($s->{redis_bad_replies}, 3, 'WRONGTYPE: three bad replies counted');
is($s->{redis_errors}, 3, 'WRONGTYPE: three error replies counted');
is($s->{redis_circuit_open}, 0, 'WRONGTYPE: Redis is up, no back-off');
is(log_lines($ngx, qr/\[error\].*mkt redis 127\.0\.0\.1:\d+: tags not read: WRONGTYPE/),
   1, 'WRONGTYPE logged, once for three requests');
$ngx->allow_log(qr/mkt redis/);
$ngx->stop;

# --- an alias write Redis refuses: tags still read, the refusal logged ------

$redis->cmd(ACL => 'SETUSER', 'noset', 'on', '>noset-pass', '~mkt:*',
            '+@all', '-set');
$redis->cmd(ZADD => 'mkt:tags:u-acl', '+inf', 'acl_tag');

$ngx = start_nginx(http_conf(
    'mkt_redis 127.0.0.1:%%REDIS_PORT%% user=noset password=noset-pass '
    . 'timeout=500ms;'));

for my $i (1 .. 3) {
    my $jar = new_jar();
    $res = request(GET => '/', jar => $jar,
                   headers => { 'X-User-Id' => 'u-acl' });
    is($res->{status}, 200, "refused alias $i: served");
    is($res->{headers}{'x-tags'}, 'acl_tag', "refused alias $i: tags read");
    is($redis->cmd(GET => "mkt:alias:$res->{headers}{'x-vid'}"), undef,
       "refused alias $i: no alias in Redis");
}
is(log_lines($ngx, qr/\[error\].*mkt redis 127\.0\.0\.1:\d+: alias not written: NOPERM/),
   1, 'the refused alias logged, once for three requests');
$ngx->allow_log(qr/mkt redis/);
$ngx->stop;

# --- a reply far larger than any tag set: bounded -----------------------------

# 20 MiB of nested arrays of integers (a real Redis answers ZRANGEBYSCORE
# ... LIMIT 0 64 with at most 128 strings): each 4-byte ":1" costs the
# reader a reply object, so without a bound on the whole reply the worker
# grows by hundreds of megabytes (380 MB measured), and deeper nesting
# makes it as large as the server cares to send.
my $inner = "*1024\r\n" . ("*4\r\n" . (":1\r\n" x 4)) x 1024;
my $huge = "*1024\r\n" . ($inner x 1024);
my $fake = Mkt::FakeRedis->start(sub {
    return uc $_[0] eq 'ZRANGEBYSCORE' ? $huge : undef;
});

$ngx = start_nginx(http_conf(
    'mkt_redis 127.0.0.1:' . $fake->port . ' timeout=3s fails=100;'));

sub peak_kb {
    my ($pid) = @_;
    my $st = read_file("/proc/$pid/status") // '';
    return $st =~ /^VmHWM:\s+(\d+)/m ? $1 : 0;
}

my ($worker) = $ngx->worker_pids;
my $before = peak_kb($worker);
$res = request(GET => '/', headers => { 'X-User-Id' => 'u-huge' },
               timeout => 30);
is($res->{status}, 200, 'a huge reply: served');
is($res->{headers}{'x-tags'}, undef, 'a huge reply: no tags');
my $grown = peak_kb($worker) - $before;
cmp_ok($grown, '<', 64 * 1024,
       "a huge reply: the worker grew by $grown kB, not by the reply");
is(($ngx->worker_pids)[0], $worker, 'a huge reply: the same worker serves');
cmp_ok(status()->{redis_errors}, '>=', 1, 'a huge reply: counted');
is(log_lines($ngx, qr/mkt redis .*connection failed: reply too large/), 1,
   'a huge reply: logged as too large');
$fake->stop;
$ngx->allow_log(qr/mkt redis/);
$ngx->stop;

# --- the user's and the visitor's tags, the alias, privacy, odd ids ---------

$ngx = start_nginx(http_conf(
    'mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;'));

my $jar = new_jar();
$res = request(GET => '/', jar => $jar);
my $vid = $res->{headers}{'x-vid'};
like($vid, qr/^[A-Za-z0-9_-]{22}$/, 'a visitor id');

# both ids carry "vip": once, the user's first, in Redis's order each
$redis->cmd(ZADD => 'mkt:tags:u-both', '+inf', 'vip', $now + 100, 'a');
$redis->cmd(ZADD => "mkt:tags:$vid", $now + 50, 'vip', '+inf', 'b',
            $now - 5, 'gone');
my $reads = calls($redis, 'zrangebyscore');
$res = request(GET => '/', jar => $jar, headers => { 'X-User-Id' => 'u-both' });
is($res->{headers}{'x-tags'}, 'a,vip,b', 'merged: user first, no duplicate');
is(calls($redis, 'zrangebyscore') - $reads, 2, 'both ids read');
is($redis->cmd(GET => "mkt:alias:$vid"), 'u-both', 'alias written');
my $ttl = $redis->cmd(TTL => "mkt:alias:$vid");
ok($ttl > 400 * 86400 - 60 && $ttl <= 400 * 86400, "alias TTL 400 days ($ttl)");

# privacy: no id, so no tags read and no alias
my $jar_gpc = new_jar();
$res = request(GET => '/', jar => $jar_gpc);
my $vid_gpc = $res->{headers}{'x-vid'};
$reads = calls($redis, 'zrangebyscore');
$res = request(GET => '/', jar => $jar_gpc,
               headers => { 'X-User-Id' => 'u-both', 'Sec-GPC' => '1' });
is($res->{status}, 200, 'GPC: served');
is($res->{headers}{'x-tags'}, undef, 'GPC: no tags');
is(calls($redis, 'zrangebyscore') - $reads, 0, 'GPC: no Redis read');
is($redis->cmd(GET => "mkt:alias:$vid_gpc"), undef, 'GPC: no alias');

# a member far longer than a tag (a CDP's broken write): that one skipped
# and counted, the others served, the connection kept for everyone
$redis->cmd(ZADD => 'mkt:tags:u-big', '+inf', 'x' x 100_000, '+inf', 'ok');
my $before = status();
$res = request(GET => '/', headers => { 'X-User-Id' => 'u-big' });
is($res->{status}, 200, 'a 100 kB member: served');
is($res->{headers}{'x-tags'}, 'ok', 'a 100 kB member: the other tag served');
my $after = status();
is($after->{bad_tags} - $before->{bad_tags}, 1, 'a 100 kB member: a bad tag');
is($after->{redis_errors} - $before->{redis_errors}, 0,
   'a 100 kB member: no Redis error');
is($after->{redis_connects} - $before->{redis_connects}, 0,
   'a 100 kB member: the connection kept');

# an id with spaces, '*', '?' and UTF-8 is a key like any other
$redis->cmd(ZADD => "mkt:tags:\xe7\x94\xa8\xe6\x88\xb7 1*?", '+inf', 'uni');
$res = request(GET => '/',
               headers => { 'X-User-Id' => "\xe7\x94\xa8\xe6\x88\xb7 1*?" });
is($res->{headers}{'x-tags'}, 'uni', 'an id with spaces, glob characters, UTF-8');

finish();

# Personalisation slots through nginx: tags from Redis choose the variant,
# try_files serves the page of $mkt_slot_hero, $mkt_cache_key follows the
# choice, an experiment on the slot serves the default in its control, and
# the holdout gets defaults.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use Mkt::Test;

my $SECRET = 'slots-secret-0123456789abcdef';

my $redis = start_redis();
$redis->cmd(ZADD => 'mkt:tags:u-vip', '+inf', 'vip');
$redis->cmd(ZADD => 'mkt:tags:u-vip2', '+inf', 'loyal', '+inf', 'vip');
$redis->cmd(ZADD => 'mkt:tags:u-mom', '+inf', 'new_mom');

sub config {
    my (%o) = @_;
    return encode_json({
        experiments => [
            { key => 'perso', slot => 'hero', hashVersion => 2,
              variations => ['control', 'personalised'],
              weights => $o{weights} // [0, 1],
              match => { path => '^/landing/' } },
        ],
        slots => [
            { key => 'hero', variants => ['generic', 'new-mom', 'vip'],
              rules => [
                  { if => { tags => 'vip' }, variant => 'vip' },
                  { if => { tags => 'new_mom' }, variant => 'new-mom' },
              ],
              default => 'generic' },
        ],
        holdout => { key => 'hold', coverage => $o{holdout} // 0 },
    });
}

sub http {
    return <<"EOF";
    mkt_secret "$SECRET";
    mkt_config %%PREFIX%%/exp.json;
    mkt_redis 127.0.0.1:%%REDIS_PORT%% timeout=500ms;
    mkt_tags_cache zone=tags:1m;

    server {
        listen 127.0.0.1:%%PORT%%;
        root %%PREFIX%%/site;
        mkt on;
        mkt_user_id \$http_x_user_id;
        add_header X-Slot \$mkt_slot_hero always;
        add_header X-Key \$mkt_cache_key always;
        add_header X-Perso \$mkt_exp_perso always;

        location /landing/ {
            try_files /variants/\$mkt_slot_hero\$uri \$uri =404;
        }
    }
EOF
}

my %files = (
    'exp.json' => config(),
    'site/landing/index.html' => "generic page\n",
    'site/variants/vip/landing/index.html' => "vip page\n",
    'site/variants/new-mom/landing/index.html' => "new-mom page\n",
);
my $ngx = start_nginx(files => \%files, http => http());

sub page {
    my ($uid) = @_;
    return request(GET => '/landing/index.html',
                   headers => { $uid ? ('X-User-Id' => $uid) : () });
}

my $r = page('u-vip');
is($r->{status}, 200, 'vip served');
is($r->{headers}{'x-slot'}, 'vip', 'vip tag chooses the vip variant');
is($r->{body}, "vip page\n", 'try_files served the vip page');
is($r->{headers}{'x-perso'}, 'personalised', 'in the personalised arm');
my $vip_key = $r->{headers}{'x-key'};
like($vip_key, qr/^[A-Za-z0-9_-]{11}$/, 'a cache key');

$r = page('u-vip2');
is($r->{headers}{'x-slot'}, 'vip', 'vip among other tags');
is($r->{headers}{'x-key'}, $vip_key, 'same decisions, same cache key');

$r = page('u-mom');
is($r->{body}, "new-mom page\n", 'new_mom tag: the new-mom page');
isnt($r->{headers}{'x-key'}, $vip_key, 'other decisions, other cache key');

$r = page('u-none');
is($r->{headers}{'x-slot'}, 'generic', 'no tags: the default');
is($r->{body}, "generic page\n", 'the generic page');

# everyone in the control of the experiment on the slot: the default
$ngx->reload(files => { %files, 'exp.json' => config(weights => [1, 0]) },
             http => http());
$r = page('u-vip');
is($r->{headers}{'x-perso'}, 'control', 'in the control arm');
is($r->{headers}{'x-slot'}, 'generic', 'control serves the slot default');
is($r->{body}, "generic page\n", 'and its page');

# everyone held out: defaults everywhere
$ngx->reload(files => { %files, 'exp.json' => config(holdout => 1) },
             http => http());
$r = page('u-vip');
is($r->{headers}{'x-slot'}, 'generic', 'holdout: the default');
is($r->{headers}{'x-perso'}, undef, 'holdout: in no experiment');

finish();

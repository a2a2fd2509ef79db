#!/usr/bin/env bash
# make bench: requests/s and latency of the module against plain nginx,
# nginx's split_clients and an OpenResty (Lua) equivalent.  Scenarios are
# server blocks of one nginx; those that need their own http-level config
# (an experiments file) run in nginx instances of their own, started
# together and measured in the same rounds, so that every ratio compares
# like with like.  Prints a table and writes it, with the machine it ran
# on, to build/bench/results.md.
#
# Environment: BENCH_RUNS (3), BENCH_DURATION (seconds, 5), BENCH_WARMUP
# (seconds, 2), BENCH_CONNECTIONS (50), BENCH_THREADS (1), BENCH_ONLY (names
# of the scenarios to run, space-separated; the baseline always runs),
# BENCH_PORT (first loopback port; random by default), BENCH_KEEP=1 (keep the
# temporary prefix: one directory per nginx instance), MKT_MODULE (objs/ngx_http_mkt_module.so), NGINX_BIN.
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

module=${MKT_MODULE:-$repo/objs/ngx_http_mkt_module.so}
nginx=${NGINX_BIN:-/usr/sbin/nginx}
runs=${BENCH_RUNS:-3}
duration=${BENCH_DURATION:-5}
duration=${duration%s}
warmup=${BENCH_WARMUP:-2}
warmup=${warmup%s}
conns=${BENCH_CONNECTIONS:-50}
threads=${BENCH_THREADS:-1}
only=${BENCH_ONLY:-}
out_dir=$repo/build/bench
baseline=plain

die() {
    echo "bench: $*" >&2
    exit 1
}

[ -f "$module" ] || die "$module not found: run 'make module' (or make bench)"
command -v wrk >/dev/null || die "wrk not found: run 'make deps'"
command -v curl >/dev/null || die "curl not found: run 'make deps'"
for n in runs duration warmup conns threads; do
    case ${!n} in ''|*[!0-9]*|0) die "$n must be a positive integer" ;; esac
done

ngx_modules=$("$nginx" -V 2>&1 | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p')
ngx_modules=${ngx_modules:-/usr/lib/nginx/modules}
for m in ndk_http_module ngx_http_lua_module; do
    [ -f "$ngx_modules/$m.so" ] ||
        die "$ngx_modules/$m.so not found: install libnginx-mod-http-lua"
done

# nginx on CPU 0, wrk on CPU 1, when there are two CPUs to pin to
pin_nginx=()
pin_wrk=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin_nginx=(taskset -c 0)
    pin_wrk=(taskset -c 1)
fi

prefix=$(mktemp -d /tmp/mkt-bench.XXXXXX)
failed=1

# the nginx instances: names in declaration order, and per instance its
# http-level directives, server blocks, control port, master and worker pid
instances=()
declare -A i_http i_servers i_control i_pid i_worker

stop() {
    local i inst pid

    trap - EXIT INT TERM
    if [ -n "${redis_pid:-}" ]; then
        kill -TERM "$redis_pid" 2>/dev/null || true
    fi
    for inst in "${instances[@]}"; do
        pid=${i_pid[$inst]:-}
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    done
    for inst in "${instances[@]}"; do
        pid=${i_pid[$inst]:-}
        [ -n "$pid" ] || continue
        for i in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        pid=${i_worker[$inst]:-}
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    for inst in "${instances[@]}"; do
        if [ "$failed" = 1 ] && [ -s "$prefix/$inst/error.log" ]; then
            echo "bench: last lines of nginx $inst's error.log:" >&2
            tail -n 20 "$prefix/$inst/error.log" >&2
        fi
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench: kept $prefix" >&2
    else
        rm -rf "$prefix"
    fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# below Linux's ephemeral range (32768-), where wrk's own sockets live
next_port=${BENCH_PORT:-$((20000 + RANDOM % 12000))}

take_port() {
    while ! port_free "$next_port"; do
        next_port=$((next_port + 1))
    done
    port=$next_port
    next_port=$((next_port + 1))
}


# --- scenarios ---------------------------------------------------------------
#
# instance NAME <<NGINX ... NGINX
#     adds directives to the http block of nginx instance NAME (an
#     experiments file, ...).  Every instance is an nginx of its own with
#     the common http settings below; "main" is where scenarios go unless
#     they name another.  $prefix (the temporary directory) and $here
#     (tests/bench/) can be used in an unquoted heredoc.
#
# http_conf <<'NGINX' ... NGINX
#     the same for "main" (split_clients maps, Lua init, ...).
#
# scenario NAME [--instance I] [--header 'Name: value']...
#          [--cookie 'a=b; c=d'] [--cookie-of SCENARIO] [--returning]
#          [--first-expect RE]...
#          [--expect RE]... [--reject RE]... [--unique-header NAME]
#          [--post BODY] [--status CODE] <<'NGINX' ... NGINX
#     adds a server block (its own loopback port, root = the 2 KiB page)
#     whose body is the text on stdin to instance I (main).  wrk asks for
#     /index.html.  --header and --cookie are sent on every request;
#     --returning sends the cookies the scenario set on a first request
#     without cookies (a returning visitor), whose response headers must
#     match --first-expect; --cookie-of sends the cookies an earlier
#     returning SCENARIO sends (the same request to another server); --expect / --reject are extended regexps the
#     response headers must / must not match (checked before measuring);
#     --unique-header NAME: during the runs every request carries header
#     NAME with a value never sent before (a cache miss each time);
#     --post BODY: every request is a POST of BODY as application/json
#     (wrk sends it through report.lua), answered --status CODE (200: the
#     page; any other: an empty body).

names=()
declare -A s_port s_instance s_header s_cookie s_cookie_of s_returning \
    s_first s_expect s_reject s_unique s_post s_status

instance_add() {   # NAME: known from now on (once)
    [ -n "${i_http[$1]+set}" ] && return 0
    instances+=("$1")
    i_http[$1]=
    i_servers[$1]=
}

instance() {
    instance_add "$1"
    i_http[$1]+=$(cat)$'\n'
}

http_conf() {
    instance main
}

scenario() {
    local name=$1 inst=main body

    shift
    case " $only " in
        "  "|*" $name "*) ;;
        *) [ "$name" = "$baseline" ] || { cat >/dev/null; return 0; } ;;
    esac
    names+=("$name")
    s_header[$name]=
    s_cookie[$name]=
    s_cookie_of[$name]=
    s_returning[$name]=0
    s_first[$name]=
    s_expect[$name]=
    s_reject[$name]=
    s_unique[$name]=
    s_post[$name]=
    s_status[$name]=200
    while [ $# -gt 0 ]; do
        case $1 in
            --instance) inst=$2; shift 2 ;;
            --header) s_header[$name]+=$2$'\n'; shift 2 ;;
            --cookie) s_cookie[$name]=$2; shift 2 ;;
            --cookie-of) s_cookie_of[$name]=$2; shift 2 ;;
            --returning) s_returning[$name]=1; shift ;;
            --first-expect) s_first[$name]+=$2$'\n'; shift 2 ;;
            --expect) s_expect[$name]+=$2$'\n'; shift 2 ;;
            --reject) s_reject[$name]+=$2$'\n'; shift 2 ;;
            --unique-header) s_unique[$name]=$2; shift 2 ;;
            --post) s_post[$name]=$2; shift 2 ;;
            --status) s_status[$name]=$2; shift 2 ;;
            *) die "scenario $name: unknown option $1" ;;
        esac
    done
    instance_add "$inst"
    s_instance[$name]=$inst
    take_port
    s_port[$name]=$port
    body=$(cat)
    i_servers[$inst]+="
    server {   # scenario $name
        listen 127.0.0.1:$port;
        root $prefix/html;
$body
    }
"
}

# 1. nginx serving the page: the baseline every ratio is against
scenario plain --expect '^HTTP/1\.1 200' <<'NGINX'
        location / {
        }
NGINX

# 2. what a web team uses today: split_clients on their own user cookie
http_conf <<'NGINX'
    split_clients "${cookie_uid}hero" $exp_1 { 50% control; * treatment; }
    split_clients "${cookie_uid}cta" $exp_2 { 50% control; * treatment; }
    split_clients "${cookie_uid}pricing" $exp_3 { 50% control; * treatment; }
    split_clients "${cookie_uid}checkout" $exp_4 { 50% control; * treatment; }
    split_clients "${cookie_uid}banner" $exp_5 { 50% control; * treatment; }
NGINX
scenario split_clients --cookie 'uid=u4242' \
        --expect '^X-Exp-5: (control|treatment)' <<'NGINX'
        location / {
            add_header X-Exp-1 $exp_1;
            add_header X-Exp-2 $exp_2;
            add_header X-Exp-3 $exp_3;
            add_header X-Exp-4 $exp_4;
            add_header X-Exp-5 $exp_5;
        }
NGINX

# 3. the OpenResty equivalent (tests/bench/mkt_ab.lua), returning visitor
http_conf <<NGINX
    lua_package_path "$here/?.lua;/usr/share/lua/5.1/?.lua;;";
    init_worker_by_lua_block { require("mkt_ab").init_worker() }
NGINX
scenario lua --returning --expect '^X-Exp-5: (control|treatment)' \
        --reject '^Set-Cookie' <<'NGINX'
        location / {
            rewrite_by_lua_block { require("mkt_ab").run() }
        }
NGINX

# 4. the module, returning visitor: a valid signed cookie on every request
scenario mkt_returning --returning --expect '^X-Vid: [A-Za-z0-9_-]{22}' \
        --reject '^Set-Cookie' <<'NGINX'
        location / {
            mkt on;
            add_header X-Vid $mkt_vid;
        }
NGINX

# 5. the module, new visitor: every request mints an id and a Set-Cookie
scenario mkt_new --expect '^X-Vid: [A-Za-z0-9_-]{22}' \
        --expect '^Set-Cookie: _mkt=1\.' <<'NGINX'
        location / {
            mkt on;
            add_header X-Vid $mkt_vid;
        }
NGINX

# 6. the Lua equivalent of mkt_new: mints an id and sets a cookie each time
scenario lua_new --expect '^X-Exp-5: (control|treatment)' \
        --expect '^Set-Cookie: _mkt=' <<'NGINX'
        location / {
            rewrite_by_lua_block { require("mkt_ab").run() }
        }
NGINX

# redis-server for the tags (M4), of scenarios 7 to 11 and the Redis
# sink: it shares nginx's CPU, as a local replica on an edge would
take_port
redis_port=$port
mkdir -p "$prefix/redis"
"${pin_nginx[@]}" redis-server --bind 127.0.0.1 --port "$redis_port" \
    --save '' --appendonly no --dir "$prefix/redis" \
    --logfile "$prefix/redis/redis.log" --daemonize no &
redis_pid=$!
for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 ||
    die "redis-server did not start on port $redis_port"

# 7, 8. the module with an experiments file (tests/bench/experiments.pl),
# each in an nginx of its own since mkt_config is http-level: a returning
# desktop browser on www.example.com with its _mkt and _mkt_sb cookies,
# given the five experiments of split_clients and lua by the module, two
# personalisation slots, and tags from Redis through the shared cache
# (M7 scenario 4; negative_ttl covers the run: no tags, every rule of the
# slots evaluated, every lookup a cache hit after the first request)
browser=(--header 'Host: www.example.com'
    --header 'User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
    --header 'Accept-Language: en-US,en;q=0.9')
exp_headers=(--returning --first-expect '^Set-Cookie: _mkt=1\.'
    --expect '^X-Exp-1: (control|treatment)$'
    --expect '^X-Exp-2: (control|treatment)$'
    --expect '^X-Exp-3: (control|treatment)$'
    --expect '^X-Exp-4: (control|treatment)$'
    --expect '^X-Exp-5: (control|treatment)$'
    --expect '^X-Slot-Hero: generic$' --expect '^X-Slot-Promo: none$'
    --reject '^Set-Cookie')
exp_tags="
    mkt_redis 127.0.0.1:$redis_port timeout=20ms;
    mkt_tags_cache zone=tags:8m ttl=1h negative_ttl=1h;"
exp_location='
        location / {
            mkt on;
            add_header X-Exp-1 $mkt_exp_hero;
            add_header X-Exp-2 $mkt_exp_cta;
            add_header X-Exp-3 $mkt_exp_pricing;
            add_header X-Exp-4 $mkt_exp_checkout;
            add_header X-Exp-5 $mkt_exp_banner;
            add_header X-Slot-Hero $mkt_slot_hero;
            add_header X-Slot-Promo $mkt_slot_promo;
        }'

# 7. five running experiments, all on /index.html
perl "$here/experiments.pl" 5 5 > "$prefix/exp5.json"
instance exp5 <<NGINX
    mkt_config $prefix/exp5.json;$exp_tags
NGINX
# _mkt_sb: five entries of one visitor exposed today, 11 bytes for the
# first (with its fingerprint and day) and 7 for each other: 39 bytes,
# 52 base64url characters (src/sticky.h)
scenario mkt_exp5 --instance exp5 "${browser[@]}" "${exp_headers[@]}" \
    --first-expect '^Set-Cookie: _mkt_sb=s3\.[A-Za-z0-9_-]{52}\.' \
    <<< "$exp_location"

# 8. 1,000 running experiments: 100 can apply to /index.html (conditions
# keep some of those out, namespaces and coverage others: about 60 assign),
# 900 are for other paths and hosts
perl "$here/experiments.pl" 1000 100 > "$prefix/exp1000.json"
instance exp1000 <<NGINX
    mkt_config $prefix/exp1000.json;$exp_tags
NGINX
# _mkt_sb: at least 41 entries as above, 11 + 40 * 7 bytes
scenario mkt_exp1000 --instance exp1000 "${browser[@]}" "${exp_headers[@]}" \
    --first-expect '^Set-Cookie: _mkt_sb=s3\.[A-Za-z0-9_-]{388,}\.' \
    <<< "$exp_location"

# plain nginx asked the same requests as mkt_exp5 and mkt_exp1000 (the
# browser's headers, the same cookies) and answering seven constant headers
# like theirs: what the request and the response cost nginx by themselves,
# the context of the targets of 7 and 8
plain_exp_location='
        location / {
            add_header X-Exp-1 control;
            add_header X-Exp-2 treatment;
            add_header X-Exp-3 control;
            add_header X-Exp-4 treatment;
            add_header X-Exp-5 control;
            add_header X-Slot-Hero generic;
            add_header X-Slot-Promo none;
        }'
scenario plain_exp5 "${browser[@]}" --cookie-of mkt_exp5 \
    --expect '^X-Slot-Promo: none$' <<< "$plain_exp_location"
scenario plain_exp1000 "${browser[@]}" --cookie-of mkt_exp1000 \
    --expect '^X-Slot-Promo: none$' <<< "$plain_exp_location"

# 9-11. tags from Redis: a returning visitor with a valid cookie whose
# tags are looked up by visitor id
tags_location='
        location / {
            mkt on;
            add_header X-Tags "[$mkt_tags]";
        }'

# 9. every lookup answered by the shared tag cache (negative_ttl covers
# the whole run: after the first request, no Redis call)
instance tags_hit <<NGINX
    mkt_redis 127.0.0.1:$redis_port timeout=20ms;
    mkt_tags_cache zone=tags:8m ttl=1h negative_ttl=1h;
NGINX
scenario mkt_tags_hit --instance tags_hit --returning \
    --expect '^X-Tags: \[\]' --reject '^Set-Cookie' <<< "$tags_location"

# 10. every request a cache miss: a returning visitor (its visitor id's
# tags cached) with a user id never seen before, as after a login: one
# ZRANGEBYSCORE for it, and the mkt:alias:VID write the module makes for a
# new user of a visitor, pipelined in the same round trip
instance tags_miss <<NGINX
    mkt_redis 127.0.0.1:$redis_port timeout=20ms;
    mkt_tags_cache zone=tags:64m ttl=1h negative_ttl=1h;
NGINX
scenario mkt_tags_miss --instance tags_miss --returning \
    --unique-header X-User-Id --header 'X-User-Id: first' \
    --expect '^X-Tags: \[\]' --reject '^Set-Cookie' <<'NGINX'
        location / {
            mkt on;
            mkt_user_id $http_x_user_id;
            add_header X-Tags "[$mkt_tags]";
        }
NGINX

# 11. the OpenResty equivalent of 10: lua-resty-redis with a keepalive pool
# (tests/bench/mkt_tags.lua): the same lookup of the user id's tags
scenario lua_tags --unique-header X-User-Id --header 'X-User-Id: first' \
    --expect '^X-Tags: \[\]' <<NGINX
        location / {
            set \$bench_redis_port $redis_port;
            rewrite_by_lua_block { require("mkt_tags").run() }
        }
NGINX

# 12, 13. the collect endpoint (M5): one conversion a POST, as sendBeacon
# sends it, recorded through the buffered log sink; against nginx
# answering 204 on the same route with no module at work
beacon_body='{"goal":"purchase","value":129.5,"currency":"CNY"}'
printf '{"goals": ["signup", "purchase"]}\n' > "$prefix/goals.json"
instance beacon <<NGINX
    mkt_config $prefix/goals.json;
    mkt_events_log $prefix/beacon/events.jsonl buffer=64k flush=1s;
NGINX
scenario beacon --instance beacon --post "$beacon_body" --status 204 \
    --expect '^HTTP/1\.1 204' --reject '^Set-Cookie' <<'NGINX'
        location = /index.html {
            mkt_collect;
        }
NGINX
scenario plain_204 --post "$beacon_body" --status 204 \
    --expect '^HTTP/1\.1 204' <<'NGINX'
        location = /index.html {
            return 204;
        }
NGINX

# the same beacons to the Redis sink alone: XADDs pipelined in batches to
# the redis-server above (trimmed, so that its memory stays flat)
instance beacon_redis <<NGINX
    mkt_config $prefix/goals.json;
    mkt_redis 127.0.0.1:$redis_port timeout=20ms;
    mkt_events_redis stream=bench:events maxlen=100000;
NGINX
scenario beacon_redis --instance beacon_redis --post "$beacon_body" \
    --status 204 --expect '^HTTP/1\.1 204' --reject '^Set-Cookie' <<'NGINX'
        location = /index.html {
            mkt_collect;
        }
NGINX

# 14, 15. a plugin's cost (M6): mkt_returning with an experiments file of
# one slot with a rule on attribute "tier", which
# tests/bench/trivial_plugin.lua adds with a trivial attributes hook (hooks
# run only when there are experiments or slots to decide).
# mkt_plugin_base is the same without the plugin: the rule is evaluated
# the same way, no one has the attribute.
cat > "$prefix/plugin.json" <<'JSON'
{"slots": [{"key": "hero", "variants": ["plain", "gold"],
  "rules": [{"if": {"tier": "gold"}, "variant": "gold"}],
  "default": "plain"}]}
JSON
plugin_location='
        location / {
            mkt on;
            add_header X-Vid $mkt_vid;
            add_header X-Slot $mkt_slot_hero;
        }'
instance plugin_base <<NGINX
    mkt_config $prefix/plugin.json;
NGINX
scenario mkt_plugin_base --instance plugin_base --returning \
    --expect '^X-Slot: plain' --reject '^Set-Cookie' <<< "$plugin_location"
instance plugin <<NGINX
    mkt_config $prefix/plugin.json;
    mkt_plugin $here/trivial_plugin.lua;
NGINX
scenario mkt_plugin --instance plugin --returning \
    --expect '^X-Slot: gold' --reject '^Set-Cookie' <<< "$plugin_location"

[ ${#names[@]} -gt 1 ] || die "BENCH_ONLY=\"$only\" selects no scenario"


# --- the nginx -----------------------------------------------------------------

mkdir -p "$prefix/html" "$out_dir"
rm -f "$out_dir/results.md" "$out_dir/runs.tsv"   # never leave stale ones
chmod 755 "$prefix" "$prefix/html"   # workers run as nobody when started by root
head -c 32 /dev/urandom | base64 > "$prefix/mkt.secret"
# nginx maps a copy: "make" rewriting objs/*.so in place while nginx runs
# would crash the worker (SIGBUS) in the middle of a measurement
cp "$module" "$prefix/ngx_http_mkt_module.so"

# the page: exactly 2048 bytes of HTML, padded by a comment
{
    printf '<!doctype html>\n<html><head><meta charset="utf-8">'
    printf '<title>Landing</title></head>\n<body>\n<h1>Welcome</h1>\n'
    for i in $(seq 36); do
        printf '<p>Paragraph %02d of the landing page.</p>\n' "$i"
    done
} > "$prefix/page"
{
    cat "$prefix/page"
    pad=$((2048 - $(wc -c < "$prefix/page") - 23))
    printf '<!--%*s-->\n</body></html>\n' "$pad" ''
} > "$prefix/html/index.html"
page_size=$(wc -c < "$prefix/html/index.html")
[ "$page_size" = 2048 ] || die "the page is $page_size bytes, not 2048"

# instances with a scenario to serve, in the order they were declared
started=()
for inst in "${instances[@]}"; do
    [ -n "${i_servers[$inst]}" ] && started+=("$inst")
done
instances=("${started[@]}")

write_conf() {   # INSTANCE: $prefix/INSTANCE/nginx.conf
    local inst=$1 dir=$prefix/$1

    mkdir -p "$dir"
    cat > "$dir/nginx.conf" <<NGINX
# written by tests/bench/run.sh: instance $inst
load_module $prefix/ngx_http_mkt_module.so;
load_module $ngx_modules/ndk_http_module.so;
load_module $ngx_modules/ngx_http_lua_module.so;

worker_processes 1;
daemon off;
pid $dir/nginx.pid;
lock_file $dir/nginx.lock;
error_log $dir/error.log warn;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    # Debian's sendfile, but no tcp_nopush (two setsockopt() per response)
    # and no open()/fstat()/close() per request: the cheaper the baseline,
    # the more the cost of the module shows in the ratios
    sendfile on;
    open_file_cache max=64;
    open_file_cache_valid 60s;
    # wrk's connections stay open for the whole run: requests, not
    # handshakes, are measured
    keepalive_timeout 75s;
    keepalive_requests 10000000;

    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;

    mkt_secret_file $prefix/mkt.secret;

${i_http[$inst]}
    server {   # control: readiness and the module's counters
        listen 127.0.0.1:${i_control[$inst]};
        location = /mkt/status {
            mkt_status;
        }
    }
${i_servers[$inst]}
}
NGINX
}

status_url() {   # INSTANCE
    echo "http://127.0.0.1:${i_control[$1]}/mkt/status"
}

# every instance checked, then all started together, each on CPU 0
for inst in "${instances[@]}"; do
    take_port
    i_control[$inst]=$port
    write_conf "$inst"
    "$nginx" -p "$prefix/$inst" -c "$prefix/$inst/nginx.conf" -t -q ||
        die "nginx -t failed on $prefix/$inst/nginx.conf"
done
for inst in "${instances[@]}"; do
    "${pin_nginx[@]}" "$nginx" -p "$prefix/$inst" \
        -c "$prefix/$inst/nginx.conf" &
    i_pid[$inst]=$!
done

for inst in "${instances[@]}"; do
    for _ in $(seq 50); do
        curl -fs -o /dev/null "$(status_url "$inst")" && break
        kill -0 "${i_pid[$inst]}" 2>/dev/null ||
            die "nginx $inst exited at start"
        sleep 0.1
    done
    curl -fs -o /dev/null "$(status_url "$inst")" ||
        die "nginx $inst does not answer on $(status_url "$inst")"

    i_worker[$inst]=$(pgrep -P "${i_pid[$inst]}" | head -n 1 || true)
    [ -n "${i_worker[$inst]}" ] ||
        die "cannot find the worker process of nginx $inst"
done

# "RUN WAIT": nanoseconds the worker of a scenario's nginx has spent on a
# CPU, and waiting for one while runnable (other processes on its CPU: the
# noise meter; -1: unknown)
worker_sched() {   # SCENARIO
    local pid=${i_worker[${s_instance[$1]}]}

    if [ -r "/proc/$pid/schedstat" ]; then
        cut -d' ' -f1,2 "/proc/$pid/schedstat"
    else
        awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, "");
            printf "%.0f -1\n", ($12 + $13) * 1e9 / hz }' "/proc/$pid/stat"
    fi
}


# --- check every scenario answers the same page --------------------------------

# the curl/wrk options of a scenario's request headers -> req_args
request_args() {   # SCENARIO [no-cookie]
    local h

    req_args=()
    while IFS= read -r h; do
        [ -z "$h" ] || req_args+=(-H "$h")
    done <<< "${s_header[$1]}"
    [ -n "${s_cookie[$1]}" ] && [ -z "${2:-}" ] &&
        req_args+=(-H "Cookie: ${s_cookie[$1]}")
    [ -n "${s_post[$1]}" ] && req_args+=(-H 'Content-Type: application/json')
    return 0
}

# every regexp of a list (one a line) must (or, with "reject", must not)
# match a line of a header file
check_headers() {   # SCENARIO FILE expect|reject LIST
    local re

    while IFS= read -r re; do
        [ -n "$re" ] || continue
        if grep -Eiq -- "$re" "$2"; then
            [ "$3" = expect ] && continue
            cat "$2" >&2
            die "$1: a header matches $re"
        elif [ "$3" = expect ]; then
            cat "$2" >&2
            die "$1: no header matches $re"
        fi
    done <<< "$4"
}

for name in "${names[@]}"; do
    url="http://127.0.0.1:${s_port[$name]}/index.html"

    if [ "${s_returning[$name]}" = 1 ]; then
        request_args "$name" no-cookie
        curl -fsS -o /dev/null -D - "${req_args[@]}" "$url" | tr -d '\r' \
            > "$prefix/headers.txt" || die "$name: curl $url failed"
        check_headers "$name" "$prefix/headers.txt" expect "${s_first[$name]}"
        cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: *\([^;]*\).*/\1/p' \
            "$prefix/headers.txt" | paste -sd';' | sed 's/;/; /g')
        [ -n "$cookie" ] ||
            die "$name: the first request set no cookie to return with"
        s_cookie[$name]=$cookie
    fi
    if [ -n "${s_cookie_of[$name]}" ]; then
        of=${s_cookie_of[$name]}
        [ -n "${s_cookie[$of]:-}" ] ||
            die "$name: --cookie-of $of, which is not run before it"
        s_cookie[$name]=${s_cookie[$of]}
    fi

    request_args "$name"
    post_args=()
    [ -n "${s_post[$name]}" ] &&
        post_args=(-X POST --data-binary "${s_post[$name]}")
    status=$(curl -sS -o "$prefix/body" -D "$prefix/headers" \
        -w '%{http_code}' "${req_args[@]}" "${post_args[@]}" "$url") ||
        die "$name: curl $url failed"
    tr -d '\r' < "$prefix/headers" > "$prefix/headers.txt"
    [ "$status" = "${s_status[$name]}" ] ||
        die "$name: $url answered $status, not ${s_status[$name]}"
    if [ "$status" = 200 ]; then
        cmp -s "$prefix/body" "$prefix/html/index.html" ||
            die "$name: $url did not answer the page"
    else
        [ ! -s "$prefix/body" ] || die "$name: $url answered a body"
    fi
    check_headers "$name" "$prefix/headers.txt" expect "${s_expect[$name]}"
    check_headers "$name" "$prefix/headers.txt" reject "${s_reject[$name]}"
    cookie=${s_cookie[$name]}
    [ ${#cookie} -le 60 ] ||
        cookie="$(sed 's/=[^;]*//g' <<< "$cookie") (${#cookie} bytes)"
    printf 'checked %-14s %s, %s bytes%s\n' "$name" "$status" \
        "$(wc -c < "$prefix/body")" "${cookie:+, Cookie: $cookie}"
done


# --- measure -------------------------------------------------------------------

run_wrk() {   # name seconds -> one BENCH_RESULT line on stdout
    local name=$1 secs=$2 url out

    url="http://127.0.0.1:${s_port[$name]}/index.html"
    request_args "$name"
    out=$(BENCH_UNIQUE_HEADER=${s_unique[$name]} \
        BENCH_METHOD=${s_post[$name]:+POST} BENCH_BODY=${s_post[$name]} \
        "${pin_wrk[@]}" wrk -t "$threads" -c "$conns" -d "${secs}s" \
        --timeout 5s -s "$here/report.lua" "${req_args[@]}" "$url" 2>&1) ||
        { echo "$out" >&2; die "$name: wrk failed"; }
    out=$(grep '^BENCH_RESULT ' <<< "$out") ||
        { echo "$out" >&2; die "$name: no result line from wrk"; }
    case $out in
        *" errors_status=0 "*) ;;
        *) die "$name: non-2xx/3xx answers during the run: $out" ;;
    esac
    echo "$out"
}

field() {   # KEY LINE
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"
}

n=${#names[@]}
echo
echo "bench: ${n} scenarios, ${warmup}s warm-up, ${runs} x ${duration}s each," \
    "$conns connections, $threads wrk thread(s);" \
    "about $((n * (warmup + runs * (duration + 1)))) s"
echo "bench: ${#instances[@]} nginx instance(s): ${instances[*]}"
[ ${#pin_nginx[@]} -gt 0 ] && echo "bench: nginx on CPU 0, wrk on CPU 1" ||
    echo "bench: not pinned (one CPU or no taskset): expect noisier numbers"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for name in "${names[@]}"; do
    run_wrk "$name" "$warmup" >/dev/null
done

tsv=$out_dir/runs.tsv
columns='run scenario rps p50_us p99_us cpu_ns_per_req socket_errors'
echo "$columns nginx_wait_pct" | tr ' ' '\t' > "$tsv"

# round-robin, each round starting one scenario later, so that drift of the
# machine spreads over all scenarios alike
for ((r = 1; r <= runs; r++)); do
    for ((k = 0; k < n; k++)); do
        name=${names[$(((r - 1 + k) % n))]}
        read -r cpu0 wait0 <<< "$(worker_sched "$name")"
        t0=$(date +%s%N)
        line=$(run_wrk "$name" "$duration")
        t1=$(date +%s%N)
        read -r cpu1 wait1 <<< "$(worker_sched "$name")"
        reqs=$(field requests "$line")
        rps=$(field rps "$line")
        wait_pct=$(awk -v w0="$wait0" -v w1="$wait1" -v t="$((t1 - t0))" \
            'BEGIN { if (w0 < 0) print "-1"; else printf "%.1f\n",
                                                  (w1 - w0) * 100 / t }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$name" "$rps" \
            "$(field p50_us "$line")" "$(field p99_us "$line")" \
            "$(( (cpu1 - cpu0) / (reqs > 0 ? reqs : 1) ))" \
            "$(field errors_socket "$line")" "$wait_pct" >> "$tsv"
        printf 'run %d/%d  %-14s %10s req/s  (nginx waited for its CPU' \
            "$r" "$runs" "$name" "$rps"
        [ "$wait_pct" = -1 ] && echo ' ?)' ||
            printf ' %s%% of the time)\n' "$wait_pct"
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
socket_errors=$(awk -F'\t' 'NR > 1 { n += $7 } END { print n + 0 }' "$tsv")
[ "$socket_errors" = 0 ] ||
    echo "bench: warning: $socket_errors socket errors (see $tsv)" >&2

status_json=
for inst in "${instances[@]}"; do
    if grep -Eq '\[(alert|crit|emerg)\]' "$prefix/$inst/error.log"; then
        die "nginx $inst logged alerts during the runs"
    fi
    [ "$(pgrep -P "${i_pid[$inst]}" | head -n 1)" = "${i_worker[$inst]}" ] ||
        die "the worker of nginx $inst was replaced during the runs"
    json=$(curl -fsS "$(status_url "$inst")")
    case $json in
        *'"bad_cookies":0,'*) ;;
        *) die "the module rejected cookies during the runs ($inst): $json" ;;
    esac
    case $json in
        *'"bad_sticky_cookies":0}'*|*'"bad_sticky_cookies":0,'*) ;;
        *) die "the module rejected sticky cookies ($inst): $json" ;;
    esac
    status_json+="$inst: $json"$'\n'
done
failed=0


# --- report --------------------------------------------------------------------

median() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2];
              else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

column_of() {   # SCENARIO COLUMN
    awk -F'\t' -v s="$1" -v c="$2" 'NR > 1 && $2 == s { print $c }' "$tsv"
}

per_run() {   # ratio|inverse|diff COLUMN SCENARIO: to the baseline, by run
    awk -F'\t' -v op="$1" -v c="$2" -v s="$3" -v b="$baseline" '
        NR > 1 && $2 == b { base[$1] = $c }
        NR > 1 && $2 == s { mine[$1] = $c }
        END { for (r in mine)
                  if (op == "diff") print mine[r] - base[r];
                  else if (op == "inverse" && mine[r] > 0)
                      print base[r] / mine[r];
                  else if (op == "ratio" && base[r] > 0)
                      print mine[r] / base[r] }' "$tsv"
}

# Medians of the runs, and of per-run comparisons with the baseline in the
# same round (so that a slow minute weighs on both sides of a ratio).
rows=()
for name in "${names[@]}"; do
    rows+=("$(awk -v n="$name" \
        -v rps="$(column_of "$name" 3 | median)" \
        -v r="$(per_run ratio 3 "$name" | median)" \
        -v lo="$(per_run ratio 3 "$name" | sort -g | head -n 1)" \
        -v hi="$(per_run ratio 3 "$name" | sort -g | tail -n 1)" \
        -v p50="$(column_of "$name" 4 | median)" \
        -v p99="$(column_of "$name" 5 | median)" \
        -v cpu="$(column_of "$name" 6 | median)" \
        -v dcpu="$(per_run diff 6 "$name" | median)" \
        -v rcpu="$(per_run inverse 6 "$name" | median)" \
        -v wait="$(column_of "$name" 8 | median)" 'BEGIN {
        printf "%s\t%.0f\t%.1f%%\t%.1f-%.1f%%\t%.2f\t%.2f\t%.1f\t%+.1f" \
            "\t%.1f%%\t%s\n", n, rps, r * 100, lo * 100, hi * 100,
            p50 / 1000, p99 / 1000, cpu / 1000, dcpu / 1000, rcpu * 100,
            (wait < 0 ? "?" : sprintf("%.0f%%", wait)) }')")
done

echo
heads='scenario|req/s|vs plain|range|p50 ms|p99 ms|CPU us/req|vs plain'
heads+='|CPU-bound|waited'
printf '%s\n' "$(tr '|' '\t' <<< "$heads")" "${rows[@]}" | awk -F'\t' '{
    printf "%-14s %7s %8s %13s %6s %6s %10s %8s %9s %6s\n",
        $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'

cpu_model=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
lua_version=$(dpkg-query -W -f='${Version}' libnginx-mod-http-lua \
    2>/dev/null | sed 's/^[0-9]*://; s/-[^-]*$//' || true)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
module_sum=$(sha256sum < "$prefix/ngx_http_mkt_module.so" | cut -c1-12)
serving=()   # "main (plain, split_clients, ...)"
for inst in "${instances[@]}"; do
    list=
    for name in "${names[@]}"; do
        [ "${s_instance[$name]}" = "$inst" ] && list+="${list:+, }$name"
    done
    serving+=("$inst ($list)")
done

{
    echo "### Benchmark run of $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs ($cpu_model), Linux $(uname -r)," \
        "load average $load_start at start, $load_end at the end"
    echo "- $("$nginx" -v 2>&1 | sed 's/^nginx version: //'), 1 worker in" \
        "each of ${#instances[@]} instance(s): $(printf '%s\n' "${serving[@]}" |
        paste -sd';' | sed 's/;/; /g');" \
        "lua-nginx-module ${lua_version:-?}; wrk $(wrk -v 2>&1 |
        sed -n '1s/^wrk \([^ ]*\).*/\1/p')"
    if [ ${#pin_nginx[@]} -gt 0 ]; then
        echo "- nginx (every instance) pinned to CPU 0, wrk to CPU 1"
    else
        echo "- not pinned"
    fi
    if [ -n "${MKT_MODULE:-}" ]; then
        echo "- module: $module (MKT_MODULE), sha256 $module_sum..."
    else
        echo "- module: ${module#"$repo"/}, sha256 $module_sum...," \
            "built from the working tree at commit $commit"
    fi
    echo "- wrk: $threads thread(s), $conns keep-alive connections," \
        "${runs} runs x ${duration}s per scenario, round-robin," \
        "${warmup}s warm-up; a 2 KiB static page"
    echo "- req/s, p50, p99, nginx waited: medians of the runs; vs plain:" \
        "median of the per-run req/s ratios to plain in the same round;" \
        "range: the lowest and highest of those ratios; nginx CPU µs/req:" \
        "the worker's CPU time per request, median of the runs; CPU µs vs" \
        "plain: median of the per-run differences to plain; CPU-bound vs" \
        "plain: median of the per-run plain CPU/req over this one's (the" \
        "req/s ratio on a core nginx had to itself); nginx" \
        "waited: share of the run the worker was ready to run while" \
        "another process had its CPU"
    [ "$socket_errors" = 0 ] ||
        echo "- **$socket_errors socket errors** during the runs (wrk)"
    echo
    echo "| scenario | req/s | vs plain | range | p50 ms | p99 ms" \
        "| nginx CPU µs/req | CPU µs vs plain | CPU-bound vs plain" \
        "| nginx waited |"
    echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    printf '%s\n' "${rows[@]}" | awk -F'\t' '{
        printf "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
            $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }'
} > "$out_dir/results.md"

# The issues' targets: each pair's req/s ratio in every round (measured
# in the same minute), their median, and whether the median meets it.
targets=(
    "mkt_exp5 plain 0.95 M2, M7 (4): 5 experiments"
    "mkt_exp1000 plain 0.85 M2, M7 (5): 1,000 experiments"
    "plain_exp5 plain - context of (4): plain nginx, mkt_exp5's request"
    "mkt_exp5 plain_exp5 - context of (4): the module alone, same request"
    "plain_exp1000 plain - context of (5): plain nginx, mkt_exp1000's request"
    "mkt_exp1000 plain_exp1000 - context of (5): the module alone, same request"
    "mkt_new plain 0.75 M7 (6): a new visitor every request"
    "mkt_tags_hit plain 0.90 M4: every tag lookup a cache hit"
    "mkt_tags_miss lua_tags 2.00 M4, M7 (7): cache misses vs lua-resty-redis"
    "beacon plain_204 0.80 M5, M7 (8): beacons, log sink"
    "mkt_plugin mkt_plugin_base 0.90 M6, M7 (9): a trivial plugin"
)
target_rows=()
for t in "${targets[@]}"; do
    read -r mine ref goal what <<< "$t"
    [ -n "${s_port[$mine]:-}" ] && [ -n "${s_port[$ref]:-}" ] || continue
    row=$(awk -F'\t' -v s="$mine" -v b="$ref" -v g="$goal" -v what="$what" '
        function fmt(x) {
            if (g != "-" && g >= 1) return sprintf("%.2fx", x)
            return sprintf("%.1f%%", 100 * x)
        }
        NR > 1 && $2 == b { base[$1] = $3 }
        NR > 1 && $2 == s { mine[$1] = $3 }
        END {
            n = 0
            for (r = 1; r in mine; r++) {
                if (base[r] > 0) {
                    n++
                    v[n] = mine[r] / base[r]
                    rounds = rounds (n > 1 ? " " : "") fmt(v[n])
                }
            }
            if (n == 0) exit
            for (i = 1; i <= n; i++) {        # sorted, for the median
                for (j = i + 1; j <= n; j++) {
                    if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
                }
            }
            if (n % 2) med = v[(n + 1) / 2]
            else med = (v[n / 2] + v[n / 2 + 1]) / 2
            verdict = g == "-" ? "-" : (med >= g) ? "met" : "not met"
            printf "%s / %s\t%s\t%s\t%s\t%s\t%s\n", s, b,
                g == "-" ? "-" : fmt(g), rounds,
                fmt(med), verdict, what }' "$tsv")
    [ -z "$row" ] || target_rows+=("$row")
done

if [ ${#target_rows[@]} -gt 0 ]; then
    echo
    printf '%-30s %7s %-26s %7s %-8s %s\n' pair target "per round" median \
        verdict issue
    printf '%s\n' "${target_rows[@]}" | awk -F'\t' '{
        printf "%-30s %7s %-26s %7s %-8s %s\n", $1, $2, $3, $4, $5, $6 }'
    {
        echo
        echo "Targets (req/s ratio of the pair in each round, the median" \
            "of those; the verdict is the median's):"
        echo
        echo "| pair | target | per round | median | verdict | issue |"
        echo "|---|--:|---|--:|---|---|"
        printf '%s\n' "${target_rows[@]}" | awk -F'\t' '{
            printf "| `%s` | %s | %s | %s | %s | %s |\n",
                $1, $2, $3, $4, $5, $6 }'
    } >> "$out_dir/results.md"
fi

echo
echo "bench: wrote $out_dir/results.md (per-run data: $tsv)"
echo "bench: mkt_status after the runs:"
printf '%s' "$status_json"

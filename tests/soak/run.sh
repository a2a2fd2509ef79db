#!/usr/bin/env bash
# make soak: the benchmark's request mix against the ASan/UBSan build of
# nginx and the module, 2 workers, for SOAK_DURATION seconds (600), and the
# checks of issue M9: worker RSS grows by at most SOAK_RSS_MB (16) after the
# warm-up (the first fifth of the run), the workers' open descriptors stay
# within SOAK_FDS (8) of their warm count, no worker dies, the shared zones
# evict instead of failing, and no sanitizer report or [alert]/[crit]/
# [emerg] line reaches the error log.  Prints a line every SOAK_EVERY
# seconds (10) and exits 1 on any failed check.
#
# The mix, each with its own wrk on CPU 1 while nginx and redis-server
# share CPU 0 (when there are two CPUs): returning visitors on a page with
# 5 experiments, a slot and Redis tags (cached); new visitors every request
# (a cookie, exposures, a touch); beacons POSTed to mkt_collect (each with
# a new order, so the dedup zone fills and evicts); tags of a new user id
# every request (a Redis round trip, the tag cache filling and evicting).
# Events go to the log sink and the Redis stream (with its spool).
#
# Environment: SOAK_DURATION, SOAK_EVERY, SOAK_RSS_MB, SOAK_FDS,
# SOAK_KEEP=1 (keep the prefix), NGINX_BIN and MKT_MODULE (the ASan build
# by default: make soak builds it).
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

nginx=${NGINX_BIN:-$repo/build/asan/nginx/objs/nginx}
module=${MKT_MODULE:-$repo/build/asan/nginx/objs/ngx_http_mkt_module.so}
duration=${SOAK_DURATION:-600}
every=${SOAK_EVERY:-10}
rss_mb=${SOAK_RSS_MB:-16}
max_fds=${SOAK_FDS:-8}

die() {
    echo "soak: $*" >&2
    exit 1
}

[ -x "$nginx" ] || die "$nginx not found: run 'make asan-build' (make soak does)"
[ -f "$module" ] || die "$module not found"
command -v wrk >/dev/null || die "wrk not found: run 'make deps'"
for n in duration every rss_mb max_fds; do
    case ${!n} in ''|*[!0-9]*|0) die "$n must be a positive integer" ;; esac
done

pin_server=()
pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin_server=(taskset -c 0)
    pin_load=(taskset -c 1)
fi

prefix=$(mktemp -d /tmp/mkt-soak.XXXXXX)
chmod 755 "$prefix"
mkdir -p "$prefix/spool" "$prefix/client_body"
[ "$(id -u)" = 0 ] && chown nobody "$prefix/spool" "$prefix/client_body"

nginx_pid=
redis_pid=
wrk_pids=()

stop() {
    trap - EXIT INT TERM
    for p in "${wrk_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    if [ "${SOAK_KEEP:-0}" = 1 ]; then
        echo "soak: kept $prefix"
    else
        rm -rf "$prefix"
    fi
}
trap stop EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
        perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1:0")->sockport'
}

port=$(free_port)
redis_port=$(free_port)

"${pin_server[@]}" redis-server --bind 127.0.0.1 --port "$redis_port" \
    --save '' --appendonly no --dir "$prefix" --logfile "$prefix/redis.log" \
    --maxmemory 64mb --maxmemory-policy allkeys-lru &
redis_pid=$!
for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$redis_port" ZADD mkt:tags:u42 +inf vip >/dev/null

cat > "$prefix/exp.json" <<'JSON'
{"goals": ["signup", "purchase"],
 "experiments": [
  {"key": "hero", "variations": ["control", "treatment"]},
  {"key": "cta", "variations": ["control", "treatment"]},
  {"key": "pricing", "variations": ["control", "treatment"]},
  {"key": "checkout", "variations": ["control", "treatment"]},
  {"key": "banner", "variations": ["control", "treatment"]}],
 "slots": [{"key": "promo", "variants": ["generic", "vip"],
            "rules": [{"if": {"tags": "vip"}, "variant": "vip"}],
            "default": "generic"}]}
JSON
head -c 32 /dev/urandom | base64 > "$prefix/secret"
head -c 2048 /dev/zero | tr '\0' 'x' > "$prefix/index.html"

cat > "$prefix/nginx.conf" <<NGINX
load_module $module;
worker_processes 2;
daemon off;
pid $prefix/nginx.pid;
lock_file $prefix/nginx.lock;
error_log $prefix/error.log notice;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $prefix/client_body;
    mkt_secret_file $prefix/secret;
    mkt_config $prefix/exp.json;
    mkt_redis 127.0.0.1:$redis_port timeout=50ms;
    mkt_tags_cache zone=soak_tags:256k ttl=30s;
    mkt_events_log $prefix/events.jsonl buffer=64k flush=1s;
    mkt_events_redis stream=soak:events maxlen=10000;
    mkt_events_spool $prefix/spool;
    mkt_user_id \$http_x_user;

    server {
        listen 127.0.0.1:$port reuseport;
        root $prefix;
        mkt on;
        location / {
            add_header X-Exp \$mkt_experiments;
            add_header X-Promo \$mkt_slot_promo;
        }
        location = /collect {
            mkt_collect dedup=64k;
        }
        location = /status {
            mkt off;
            mkt_status;
        }
    }
}
NGINX

"${pin_server[@]}" env ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_odr_violation=0:quarantine_size_mb=8 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$repo/tests/asan/ubsan.supp \
    "$nginx" -p "$prefix" -c "$prefix/nginx.conf" 2> "$prefix/stderr.log" &
nginx_pid=$!

url=http://127.0.0.1:$port
for _ in $(seq 100); do
    curl -fs -o /dev/null "$url/index.html" && break
    sleep 0.1
done
curl -fs -o /dev/null "$url/index.html" || die "nginx did not start: $(tail -5 "$prefix/error.log")"

workers() {
    pgrep -P "$nginx_pid" | sort
}

# a returning visitor's cookies
jar=$prefix/jar
curl -s -o /dev/null -c "$jar" -A 'Mozilla/5.0 Chrome/120.0' "$url/index.html"
cookies=$(awk '$6 ~ /^_mkt/ {printf "%s=%s; ", $6, $7}' "$jar")

cat > "$prefix/new.lua" <<'LUA'
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", "/index.html?utm_source=soak&n=" .. n)
end
LUA
cat > "$prefix/beacon.lua" <<'LUA'
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
request = function()
    n = n + 1
    return wrk.format(nil, "/collect", nil,
        '{"goal":"purchase","value":19.9,"currency":"CNY","order":"S-' ..
        math.random(1, 1e9) .. '-' .. n .. '"}')
end
LUA
cat > "$prefix/miss.lua" <<'LUA'
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", "/index.html", { ["X-User"] = "soak-" .. math.random(1, 1e9) .. "-" .. n })
end
LUA

ua='User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36'
d=${duration}s
"${pin_load[@]}" wrk -t1 -c8 -d"$d" -H "$ua" -H "Cookie: $cookies" -H 'X-User: u42' "$url/index.html" > "$prefix/wrk-returning.txt" 2>&1 &
wrk_pids+=($!)
"${pin_load[@]}" wrk -t1 -c8 -d"$d" -H "$ua" -s "$prefix/new.lua" "$url" > "$prefix/wrk-new.txt" 2>&1 &
wrk_pids+=($!)
"${pin_load[@]}" wrk -t1 -c8 -d"$d" -H "$ua" -s "$prefix/beacon.lua" "$url" > "$prefix/wrk-beacon.txt" 2>&1 &
wrk_pids+=($!)
"${pin_load[@]}" wrk -t1 -c8 -d"$d" -H "$ua" -s "$prefix/miss.lua" "$url" > "$prefix/wrk-miss.txt" 2>&1 &
wrk_pids+=($!)

start_workers=$(workers | tr '\n' ' ')
warm_at=$(( duration / 5 ))
declare -A warm_rss warm_fds
failed=0
t=0

sample() {
    local w rss fds
    for w in $start_workers; do
        [ -d /proc/$w ] || { echo "soak: worker $w is gone"; failed=1; continue; }
        rss=$(awk '/^VmRSS/ {print $2}' /proc/$w/status)
        fds=$(ls /proc/$w/fd | wc -l)
        printf ' %s: rss %d MB fds %d' "$w" $(( rss / 1024 )) "$fds"
        if [ "$1" = warm ]; then
            warm_rss[$w]=$rss
            warm_fds[$w]=$fds
        fi
        last_rss[$w]=$rss
        last_fds[$w]=$fds
    done
}

declare -A last_rss last_fds
warmed=0
while [ "$t" -lt "$duration" ]; do
    sleep "$every"
    t=$(( t + every ))
    printf 'soak: %4ds' "$t"
    if [ "$t" -ge "$warm_at" ] && [ "$warmed" = 0 ]; then
        sample warm
        warmed=1
        printf ' (warm)'
    else
        sample now
    fi
    echo
done

for p in "${wrk_pids[@]}"; do wait "$p" 2>/dev/null || true; done
wrk_pids=()

status=$(curl -fs "$url/status")
counter() {
    echo "$status" | grep -o "\"$1\":[0-9]*" | cut -d: -f2
}
echo "soak: requests $(counter requests), events $(counter events), dropped $(counter events_dropped), dedup evictions $(counter dedup_evicted), tag cache misses $(counter tags_cache_misses), redis errors $(counter redis_errors)"
# the dedup zone is small on purpose: it must have filled and evicted
[ "$(counter dedup_evicted)" -gt 0 ] || { echo "soak: FAIL: the dedup zone never evicted (did beacons run?)"; failed=1; }
[ "$(counter events_dropped)" -eq 0 ] || { echo "soak: FAIL: events dropped"; failed=1; }

for w in $start_workers; do
    [ "$warmed" = 1 ] && [ -n "${warm_rss[$w]:-}" ] || continue
    grow=$(( (last_rss[$w] - warm_rss[$w]) / 1024 ))
    dfd=$(( last_fds[$w] - warm_fds[$w] ))
    echo "soak: worker $w: RSS +$grow MB after the warm-up (at most $rss_mb), descriptors ${warm_fds[$w]} -> ${last_fds[$w]} (at most +$max_fds)"
    [ "$grow" -le "$rss_mb" ] || { echo "soak: FAIL: worker $w grew $grow MB"; failed=1; }
    [ "$dfd" -le "$max_fds" ] || { echo "soak: FAIL: worker $w descriptors grew by $dfd"; failed=1; }
done

for f in wrk-returning wrk-new wrk-beacon wrk-miss; do
    echo "soak: $f: $(grep -E 'Requests/sec|Non-2xx|Socket errors' "$prefix/$f.txt" | tr '\n' ' ')"
    if grep -q 'Non-2xx' "$prefix/$f.txt"; then
        echo "soak: FAIL: $f had non-2xx answers"
        failed=1
    fi
done

kill -QUIT "$nginx_pid"
wait "$nginx_pid" || { echo "soak: FAIL: nginx exited with $?"; failed=1; }
nginx_pid=

if grep -E '\[(alert|crit|emerg)\]|exited on signal|AddressSanitizer|runtime error:|LeakSanitizer' \
        "$prefix/error.log" "$prefix/stderr.log" | head -20 | grep .; then
    echo "soak: FAIL: the lines above in the error log"
    failed=1
fi

if [ "$failed" -ne 0 ]; then
    SOAK_KEEP=1
    exit 1
fi
echo "soak: PASS ($duration s)"

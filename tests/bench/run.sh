#!/usr/bin/env bash
# make bench: requests/s and latency of the module against plain nginx,
# nginx's split_clients and an OpenResty (Lua) equivalent, all served by ONE
# nginx process so that every ratio compares like with like.  Prints a table
# and writes it, with the machine it ran on, to build/bench/results.md.
#
# Environment: BENCH_RUNS (3), BENCH_DURATION (seconds, 5), BENCH_WARMUP
# (seconds, 2), BENCH_CONNECTIONS (50), BENCH_THREADS (1), BENCH_ONLY (names
# of the scenarios to run, space-separated; the baseline always runs),
# BENCH_PORT (first loopback port; random by default), BENCH_KEEP=1 (keep the
# temporary prefix), MKT_MODULE (objs/ngx_http_mkt_module.so), NGINX_BIN.
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
nginx_pid=
worker_pid=
failed=1

stop() {
    local i

    trap - EXIT INT TERM
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -TERM "$nginx_pid" 2>/dev/null || true
        for i in $(seq 50); do
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$nginx_pid" 2>/dev/null || true
    fi
    if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
        kill -KILL "$worker_pid" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    if [ "$failed" = 1 ] && [ -s "$prefix/error.log" ]; then
        echo "bench: last lines of nginx's error.log:" >&2
        tail -n 20 "$prefix/error.log" >&2
    fi
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
# http_conf <<'NGINX' ... NGINX
#     adds directives to the http block (split_clients maps, Lua init, ...).
#
# scenario NAME [--cookie 'a=b; c=d'] [--returning] [--expect RE]...
#          [--reject RE]... <<'NGINX' ... NGINX
#     adds a server block (its own loopback port, root = the 2 KiB page)
#     whose body is the text on stdin.  wrk asks for /index.html.
#     --cookie sends that Cookie header on every request; --returning sends
#     the cookies the scenario set on a first, cookie-less request (a
#     returning visitor); --expect / --reject are extended regexps the
#     response headers must / must not match (checked before measuring).

names=()
declare -A s_port s_cookie s_returning s_expect s_reject

http_extra=

http_conf() {
    http_extra+=$(cat)$'\n'
}

scenario() {
    local name=$1 body

    shift
    case " $only " in
        "  "|*" $name "*) ;;
        *) [ "$name" = "$baseline" ] || { cat >/dev/null; return 0; } ;;
    esac
    names+=("$name")
    s_cookie[$name]=
    s_returning[$name]=0
    s_expect[$name]=
    s_reject[$name]=
    while [ $# -gt 0 ]; do
        case $1 in
            --cookie) s_cookie[$name]=$2; shift 2 ;;
            --returning) s_returning[$name]=1; shift ;;
            --expect) s_expect[$name]+=$2$'\n'; shift 2 ;;
            --reject) s_reject[$name]+=$2$'\n'; shift 2 ;;
            *) die "scenario $name: unknown option $1" ;;
        esac
    done
    take_port
    s_port[$name]=$port
    body=$(cat)
    servers+="
    server {   # scenario $name
        listen 127.0.0.1:$port;
        root $prefix/html;
$body
    }
"
}

servers=

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

take_port
control_port=$port

cat > "$prefix/nginx.conf" <<NGINX
# written by tests/bench/run.sh
load_module $prefix/ngx_http_mkt_module.so;
load_module $ngx_modules/ndk_http_module.so;
load_module $ngx_modules/ngx_http_lua_module.so;

worker_processes 1;
daemon off;
pid $prefix/nginx.pid;
lock_file $prefix/nginx.lock;
error_log $prefix/error.log warn;

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

    client_body_temp_path $prefix/client_body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;

    mkt_secret_file $prefix/mkt.secret;

$http_extra
    server {   # control: readiness and the module's counters
        listen 127.0.0.1:$control_port;
        location = /mkt/status {
            mkt_status;
        }
    }
$servers
}
NGINX

"$nginx" -p "$prefix" -c "$prefix/nginx.conf" -t -q ||
    die "nginx -t failed on $prefix/nginx.conf"
"${pin_nginx[@]}" "$nginx" -p "$prefix" -c "$prefix/nginx.conf" &
nginx_pid=$!

for _ in $(seq 50); do
    curl -fs -o /dev/null "http://127.0.0.1:$control_port/mkt/status" && break
    kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited at start"
    sleep 0.1
done
curl -fs -o /dev/null "http://127.0.0.1:$control_port/mkt/status" ||
    die "nginx does not answer on 127.0.0.1:$control_port"

worker_pid=$(pgrep -P "$nginx_pid" | head -n 1 || true)
[ -n "$worker_pid" ] || die "cannot find nginx's worker process"

# "RUN WAIT": nanoseconds the worker has spent on a CPU, and waiting for one
# while runnable (other processes on its CPU: the noise meter; -1: unknown)
worker_sched() {
    if [ -r "/proc/$worker_pid/schedstat" ]; then
        cut -d' ' -f1,2 "/proc/$worker_pid/schedstat"
    else
        awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, "");
            printf "%.0f -1\n", ($12 + $13) * 1e9 / hz }' \
            "/proc/$worker_pid/stat"
    fi
}


# --- check every scenario answers the same page --------------------------------

for name in "${names[@]}"; do
    url="http://127.0.0.1:${s_port[$name]}/index.html"

    if [ "${s_returning[$name]}" = 1 ]; then
        cookie=$(curl -fsS -o /dev/null -D - "$url" | tr -d '\r' |
            sed -n 's/^[Ss]et-[Cc]ookie: *\([^;]*\).*/\1/p' | paste -sd';' |
            sed 's/;/; /g')
        [ -n "$cookie" ] ||
            die "$name: the first request set no cookie to return with"
        s_cookie[$name]=$cookie
    fi

    hdr=(); [ -n "${s_cookie[$name]}" ] && hdr=(-H "Cookie: ${s_cookie[$name]}")
    status=$(curl -sS -o "$prefix/body" -D "$prefix/headers" \
        -w '%{http_code}' "${hdr[@]}" "$url") ||
        die "$name: curl $url failed"
    tr -d '\r' < "$prefix/headers" > "$prefix/headers.txt"
    [ "$status" = 200 ] || die "$name: $url answered $status, not 200"
    cmp -s "$prefix/body" "$prefix/html/index.html" ||
        die "$name: $url did not answer the page"
    while IFS= read -r re; do
        [ -z "$re" ] || grep -Eiq -- "$re" "$prefix/headers.txt" ||
            { cat "$prefix/headers.txt" >&2; die "$name: no header matches $re"; }
    done <<< "${s_expect[$name]}"
    while IFS= read -r re; do
        [ -z "$re" ] || ! grep -Eiq -- "$re" "$prefix/headers.txt" ||
            { cat "$prefix/headers.txt" >&2; die "$name: a header matches $re"; }
    done <<< "${s_reject[$name]}"
    printf 'checked %-14s 200, %s bytes%s\n' "$name" "$page_size" \
        "${s_cookie[$name]:+, Cookie: ${s_cookie[$name]}}"
done


# --- measure -------------------------------------------------------------------

run_wrk() {   # name seconds -> one BENCH_RESULT line on stdout
    local name=$1 secs=$2 url out hdr=()

    url="http://127.0.0.1:${s_port[$name]}/index.html"
    [ -n "${s_cookie[$name]}" ] && hdr=(-H "Cookie: ${s_cookie[$name]}")
    out=$("${pin_wrk[@]}" wrk -t "$threads" -c "$conns" -d "${secs}s" \
        --timeout 5s -s "$here/report.lua" "${hdr[@]}" "$url" 2>&1) ||
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
        read -r cpu0 wait0 <<< "$(worker_sched)"
        t0=$(date +%s%N)
        line=$(run_wrk "$name" "$duration")
        t1=$(date +%s%N)
        read -r cpu1 wait1 <<< "$(worker_sched)"
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

if grep -Eq '\[(alert|crit|emerg)\]' "$prefix/error.log"; then
    die "nginx logged alerts during the runs"
fi
[ "$(pgrep -P "$nginx_pid" | head -n 1)" = "$worker_pid" ] ||
    die "nginx's worker was replaced during the runs"
status_json=$(curl -fsS "http://127.0.0.1:$control_port/mkt/status")
case $status_json in
    *'"bad_cookies":0,'*) ;;
    *) die "the module rejected cookies during the runs: $status_json" ;;
esac
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

{
    echo "### Benchmark run of $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- machine: $(nproc) CPUs ($cpu_model), Linux $(uname -r)," \
        "load average $load_start at start, $load_end at the end"
    echo "- $("$nginx" -v 2>&1 | sed 's/^nginx version: //'), 1 worker;" \
        "lua-nginx-module ${lua_version:-?}; wrk $(wrk -v 2>&1 |
        sed -n '1s/^wrk \([^ ]*\).*/\1/p')"
    if [ ${#pin_nginx[@]} -gt 0 ]; then
        echo "- nginx pinned to CPU 0, wrk to CPU 1"
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

echo
echo "bench: wrote $out_dir/results.md (per-run data: $tsv)"
echo "bench: mkt_status after the runs: $status_json"

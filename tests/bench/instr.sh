#!/usr/bin/env bash
# Instructions per request of the module's scenarios, counted by valgrind's
# callgrind in user space (nginx, the module, libc, libcrypto; not the
# kernel): a count that a busy machine does not change, unlike requests/s.
# For comparing two builds of the module, not for the targets of
# docs/benchmarks.md, which are requests/s ratios measured by run.sh.
#
#   tests/bench/instr.sh [SCENARIO...]
#
# Scenarios: plain mkt_returning mkt_new mkt_exp5 plain_exp5 mkt_exp1000
# plain_exp1000 mkt_tags_hit beacon plain_204 (all by default), with the
# requests run.sh sends for them (mkt_exp5 and mkt_exp1000 without Redis's
# tags; plain_expN sends mkt_expN's request, cookies included, to plain
# nginx answering five constant headers, so mkt_expN runs first); returning
# visitors are always the same one.  For each, one
# nginx (master_process off) runs under callgrind; a keep-alive client
# sends INSTR_WARMUP requests (200), collection is switched on, then
# INSTR_REQUESTS more (2000) are sent, and the instructions counted are
# divided by them.  Prints "SCENARIO N instructions/request, M of them
# libcrypto" lines.  Under valgrind, OpenSSL computes SHA-256 without the
# CPU's SHA extensions (valgrind does not emulate them): the libcrypto part
# (HMAC of the signed cookies) counts several times what it costs on a CPU
# that has them, which most servers do.  With
# INSTR_KEEP=DIR, keeps each scenario's callgrind.out in DIR (for
# callgrind_annotate).  MKT_MODULE, NGINX_BIN as for run.sh.
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
module=${MKT_MODULE:-$repo/objs/ngx_http_mkt_module.so}
nginx=${NGINX_BIN:-/usr/sbin/nginx}
warm=${INSTR_WARMUP:-200}
count=${INSTR_REQUESTS:-2000}
keep=${INSTR_KEEP:-}
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(plain mkt_returning mkt_new
    mkt_exp5 plain_exp5 mkt_exp1000 plain_exp1000 mkt_tags_hit beacon
    plain_204)

die() {
    echo "instr: $*" >&2
    exit 1
}

command -v valgrind >/dev/null || die "valgrind not found"
command -v callgrind_control >/dev/null || die "callgrind_control not found"
[ -f "$module" ] || die "$module not found: run 'make module'"

prefix=$(mktemp -d /tmp/mkt-instr.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$prefix"
}
trap cleanup EXIT

cp "$module" "$prefix/mkt.so"
mkdir -p "$prefix/html"
# a fixed key and visitor, so that every run decides the same experiments
# (the visitor cookie of tests/unit/test_cookie.c, re-issued when old)
echo 0123456789abcdef0123 > "$prefix/mkt.secret"
visitor='_mkt=1.AAAAAAAAAAAAAAAAAAAAAA.toy89t.0P8EE9dSponFojju'
# a 2 KiB page, as run.sh serves
perl -e 'print "<!doctype html>\n", "x" x 2031, "\n"' \
    > "$prefix/html/index.html"
perl "$here/experiments.pl" 5 5 > "$prefix/exp5.json"
perl "$here/experiments.pl" 1000 100 > "$prefix/exp1000.json"

port=$((20000 + RANDOM % 10000))
redis_port=$((port + 1))

browser='Host: www.example.com
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36
Accept-Language: en-US,en;q=0.9'
exp_location='location / {
            mkt on;
            add_header X-Exp-1 $mkt_exp_hero;
            add_header X-Exp-2 $mkt_exp_cta;
            add_header X-Exp-3 $mkt_exp_pricing;
            add_header X-Exp-4 $mkt_exp_checkout;
            add_header X-Exp-5 $mkt_exp_banner;
        }'

# run.sh's beacon: one conversion POSTed as sendBeacon does
beacon_body='{"goal":"purchase","value":129.5,"currency":"CNY"}'
printf '{"goals": ["signup", "purchase"]}\n' > "$prefix/goals.json"

# SCENARIO -> http (http-level directives), location, headers, returning,
# body (a POST of it, answered 204, when set)
scenario_conf() {
    http= headers= returning=1 body= cookie_of=
    location='location / { mkt on; add_header X-Vid $mkt_vid; }'
    case $1 in
        plain) location='location / { }'; returning=0 ;;
        beacon)
            http="mkt_config $prefix/goals.json;
    mkt_events_log $prefix/beacon/events.jsonl buffer=64k flush=1s;"
            location='location = /index.html { mkt_collect; }'
            returning=0 body=$beacon_body ;;
        plain_204)
            location='location = /index.html { return 204; }'
            returning=0 body=$beacon_body ;;
        mkt_returning) ;;
        mkt_new) returning=0 ;;
        mkt_exp5|mkt_exp1000)
            http="mkt_config $prefix/exp${1#mkt_exp}.json;"
            location=$exp_location
            headers=$browser ;;
        plain_exp5|plain_exp1000)
            location='location / {
            add_header X-Exp-1 control;
            add_header X-Exp-2 treatment;
            add_header X-Exp-3 control;
            add_header X-Exp-4 treatment;
            add_header X-Exp-5 control;
        }'
            cookie_of=mkt_exp${1#plain_exp}
            headers=$browser ;;
        mkt_tags_hit)
            http="mkt_redis 127.0.0.1:$redis_port timeout=200ms;
    mkt_tags_cache zone=tags:8m ttl=1h negative_ttl=1h;"
            location='location / { mkt on; add_header X-Tags "[$mkt_tags]"; }'
            ;;
        *) die "unknown scenario $1" ;;
    esac
}

declare -A cookies
for name in "${scenarios[@]}"; do
    scenario_conf "$name"
    if [ "$name" = mkt_tags_hit ] && [ -z "${redis_pid:-}" ]; then
        redis-server --bind 127.0.0.1 --port "$redis_port" --save '' \
            --appendonly no --daemonize no >/dev/null &
        redis_pid=$!
        pids+=("$redis_pid")
        sleep 0.5
    fi
    dir=$prefix/$name
    mkdir -p "$dir"
    cat > "$dir/nginx.conf" <<NGINX
load_module $prefix/mkt.so;
worker_processes 1;
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 64; }
http {
    default_type text/html;
    access_log off;
    sendfile on;
    open_file_cache max=64;
    open_file_cache_valid 600s;
    keepalive_timeout 600s;
    keepalive_requests 10000000;
    client_body_temp_path $dir/cb;
    proxy_temp_path $dir/p;
    fastcgi_temp_path $dir/f;
    uwsgi_temp_path $dir/u;
    scgi_temp_path $dir/s;
    mkt_secret_file $prefix/mkt.secret;
    $http
    server {
        listen 127.0.0.1:$port;
        root $prefix/html;
        $location
    }
}
NGINX
    "$nginx" -p "$dir" -c "$dir/nginx.conf" -t -q ||
        die "$name: nginx -t failed"
    valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$dir/callgrind.out" \
        "$nginx" -p "$dir" -c "$dir/nginx.conf" 2>"$dir/valgrind.log" &
    vpid=$!
    pids+=("$vpid")

    given=
    if [ -n "$cookie_of" ]; then
        given=${cookies[$cookie_of]:-}
        [ -n "$given" ] || die "$name: run $cookie_of before it"
    fi
    ir=$(python3 - "$port" "$warm" "$count" "$returning" "$headers" \
        "$vpid" "$visitor" "$body" "$given" <<'PY'
import socket, subprocess, sys, time

port, warm, count, returning, headers, pid, visitor, body, given = \
    sys.argv[1:10]
warm, count, returning = int(warm), int(count), returning == "1"
hdrs = [h for h in headers.split("\n") if h]
if not any(h.lower().startswith("host:") for h in hdrs):
    hdrs.insert(0, "Host: localhost")

for _ in range(600):
    try:
        s = socket.create_connection(("127.0.0.1", int(port)))
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("nginx did not start")
buf = b""

def request(cookie):
    global buf
    h = hdrs + (["Cookie: " + cookie] if cookie else [])
    if body:
        h += ["Content-Type: application/json",
              "Content-Length: %d" % len(body.encode())]
    s.sendall(("%s /index.html HTTP/1.1\r\n" % ("POST" if body else "GET")
               + "\r\n".join(h) + "\r\n\r\n" + body).encode())
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    if not lines[0].startswith("HTTP/1.1 204" if body else "HTTP/1.1 200"):
        sys.exit("answered " + lines[0])
    length = 0
    cookies = []
    for l in lines[1:]:
        k, v = l.split(":", 1)
        if k.lower() == "content-length":
            length = int(v)
        if k.lower() == "set-cookie":
            cookies.append(v.strip().split(";")[0])
    while len(buf) < length:
        buf += s.recv(65536)
    buf = buf[length:]
    return cookies

jar = dict([visitor.split("=", 1)])
if returning:
    jar.update(c.split("=", 1) for c in request(visitor))
cookie = "; ".join(k + "=" + v for k, v in jar.items()) if returning else None
cookie = given or cookie
for _ in range(warm):
    if request(cookie) and returning:
        sys.exit("a returning visitor was sent Set-Cookie")
subprocess.run(["callgrind_control", "-i", "on", pid], check=True, stderr=subprocess.DEVNULL,
               stdout=subprocess.DEVNULL)
for _ in range(count):
    request(cookie)
subprocess.run(["callgrind_control", "-d", pid], check=True, stderr=subprocess.DEVNULL,
               stdout=subprocess.DEVNULL)
print(cookie or "")
PY
    ) || die "$name: the client failed (see $dir/valgrind.log)"
    cookies[$name]=$ir
    cookie_len=${#ir}
    kill -TERM "$vpid" 2>/dev/null || true
    wait "$vpid" 2>/dev/null || true
    out=$(ls "$dir"/callgrind.out* | grep -v '\.out$' | head -n 1 || true)
    [ -n "$out" ] || out=$dir/callgrind.out
    total=$(sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -n 1)
    [ -n "$total" ] || die "$name: no totals in $out"
    # libcrypto's share: SHA-256 runs without SHA-NI under valgrind, so
    # it weighs several times more here than on the CPU (see below)
    crypto=$(callgrind_annotate --threshold=100 "$out" 2>/dev/null |
        awk '/libcrypto/ { gsub(",", "", $1); n += $1 } END { print n + 0 }')
    awk -v n="$name" -v t="$total" -v c="$count" -v k="$cookie_len" \
        -v x="$crypto" 'BEGIN { printf "%-14s %8.0f instructions/request," \
            " %6.0f of them libcrypto (Cookie %d bytes)\n",
            n, t / c, x / c, k }'
    if [ -n "$keep" ]; then
        mkdir -p "$keep"
        cp "$out" "$keep/callgrind.$name"
    fi
done

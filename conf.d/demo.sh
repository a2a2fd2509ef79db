#!/usr/bin/env bash
# make demo: nginx with the module and redis-server (the tag store, seeded
# with a few tags) on 127.0.0.1:8080 from a temporary prefix; Ctrl-C stops
# both and removes the prefix.
set -euo pipefail

module=${1:?usage: demo.sh /path/to/ngx_http_mkt_module.so}
here=$(cd "$(dirname "$0")" && pwd)
port=${MKT_DEMO_PORT:-8080}
redis_port=${MKT_DEMO_REDIS_PORT:-6380}
prefix=$(mktemp -d /tmp/mkt-demo.XXXXXX)
# workers run as nobody when the demo runs as root: they write the cache
chmod 755 "$prefix"
mkdir -p "$prefix/cache"
[ "$(id -u)" = 0 ] && chown nobody "$prefix/cache"

nginx_pid=
redis_pid=

stop() {
    trap - INT TERM EXIT
    echo
    echo "stopping the demo"
    [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$prefix"
}
trap stop INT TERM EXIT

head -c 32 /dev/urandom | base64 > "$prefix/mkt.secret"

sed -e "s|@MODULE@|$module|g" -e "s|@PREFIX@|$prefix|g" \
    -e "s|@CONFD@|$here|g" -e "s|@REPO@|$(dirname "$here")|g" \
    -e "s|@SITE@|$here/site|g" -e "s|@PORT@|$port|g" \
    -e "s|@REDIS_PORT@|$redis_port|g" \
    "$here/nginx.conf" > "$prefix/nginx.conf"

redis-server --bind 127.0.0.1 --port "$redis_port" --save '' \
    --appendonly no --dir "$prefix" --logfile "$prefix/redis.log" &
redis_pid=$!

# tags as a CDP would write them: member = tag, score = expiry (+inf: never)
for _ in $(seq 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$redis_port" ZADD mkt:tags:u42 +inf vip >/dev/null
redis-cli -p "$redis_port" ZADD mkt:tags:u7 +inf new_mom \
    "$(( $(date +%s) + 86400 ))" spring_sale >/dev/null

nginx -p "$prefix" -c "$prefix/nginx.conf" -t -q
nginx -p "$prefix" -c "$prefix/nginx.conf" &
nginx_pid=$!

for _ in $(seq 50); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done

cat <<MSG

ngx_mkt demo: http://127.0.0.1:$port/   (redis on 127.0.0.1:$redis_port)
config: $prefix/nginx.conf    logs: $prefix/{access,error}.log

Try:
  # a first visit mints a signed visitor cookie
  curl -si -c /tmp/mkt.jar http://127.0.0.1:$port/ | grep -iE 'set-cookie|x-mkt'
  # a returning visit keeps the id (X-Mkt-New: 0), no new cookie
  curl -si -b /tmp/mkt.jar http://127.0.0.1:$port/ | grep -iE 'set-cookie|x-mkt'
  # a logged-in user (mkt_user_id \$cookie_uid)
  curl -si -b /tmp/mkt.jar -b uid=u42 http://127.0.0.1:$port/ | grep -i x-mkt
  # a forged cookie is rejected and counted
  curl -si -b '_mkt=1.AAAAAAAAAAAAAAAAAAAAAA.toy89t.forgedforgedforg' \\
      http://127.0.0.1:$port/ | grep -i x-mkt-new
  # personalisation: the hero slot by tags from Redis (user u42 is tagged
  # vip), pages cached once per variant (X-Cache: HIT on the second visit)
  curl -s -b uid=u42 http://127.0.0.1:$port/shop/ | grep '<h1>'
  curl -s http://127.0.0.1:$port/shop/ | grep '<h1>'
  # user u7 is tagged new_mom: the new-mom hero, but only from China (geo
  # from the test database, the address from X-Forwarded-For)
  curl -s -b uid=u7 -H 'X-Forwarded-For: 113.108.1.1' \
      http://127.0.0.1:$port/shop/ | grep '<h1>'
  curl -s -b uid=u7 -H 'X-Forwarded-For: 81.2.69.160' \
      http://127.0.0.1:$port/shop/ | grep '<h1>'
  curl -si -b uid=u42 http://127.0.0.1:$port/shop/ | grep -iE 'x-cache|x-mkt'
  # why: the slot's rules, without nginx
  objs/mkt explain conf.d/experiments.json --attr id=u42 \
      --attr-json 'tags=["vip"]'
  # the id reaches a backend through proxy_set_header
  curl -s -b /tmp/mkt.jar http://127.0.0.1:$port/api/
  # the hero experiment (www.example.com, /landing/): each arm its own page
  curl -s -b /tmp/mkt.jar -H 'Host: www.example.com' \
      http://127.0.0.1:$port/landing/ | grep '<h1>'
  curl -si -b /tmp/mkt.jar -H 'Host: www.example.com' \
      http://127.0.0.1:$port/landing/ | grep -i x-mkt-experiments
  # QA forcing the other arm (allowed from 127.0.0.1 by mkt_qa)
  curl -s -H 'Host: www.example.com' \
      'http://127.0.0.1:$port/landing/?mkt_force=hero-2026q4:new-hero' | grep '<h1>'
  # what the experiments file does, without nginx
  objs/mkt lint conf.d/experiments.json
  objs/mkt explain conf.d/experiments.json --host www.example.com \
      --path /landing/ --attr id=visitor-1 --attr device=mobile
  # events: curl is a bot to the module (decisions, but no exposure or
  # touch events), so visit as a browser from a campaign, then convert
  # (as navigator.sendBeacon sends it); the page's events are buffered
  # for a second, the conversion is written at once
  curl -s -o /dev/null -c /tmp/mkt.jar -b /tmp/mkt.jar \
      -A 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36' \
      'http://127.0.0.1:$port/?utm_source=xiaohongshu&utm_medium=social'
  curl -si -b /tmp/mkt.jar -H 'Content-Type: text/plain' \
      -d '{"goal":"purchase","value":129,"currency":"CNY","order":"A-1"}' \
      http://127.0.0.1:$port/mkt/collect | head -1
  sleep 1; tail -3 $prefix/events.jsonl
  # and what they say (with enough traffic: objs/mkt gen for a preview)
  objs/mkt report $prefix/events.jsonl --config conf.d/experiments.json
  # counters, JSON and Prometheus
  curl -s http://127.0.0.1:$port/mkt/status
  curl -s 'http://127.0.0.1:$port/mkt/status?format=prometheus'

Ctrl-C stops nginx and redis.
MSG

wait "$nginx_pid"

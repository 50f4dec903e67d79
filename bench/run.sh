#!/usr/bin/env bash
# bench/run.sh — `make bench`: MeetOA's throughput, latency and memory, measured in one run.
#
# What it does, one scenario after the other, the server side pinned to core 0 and the
# load generator (wrk, node) and the WeChat emulator pinned to core 1 (taskset):
#   1. baseline  nginx, one worker, access_log off, `return 200` with the very bytes MeetOA answers
#                to /wx/auth/info: what one core can answer at all (wrk -t1 -c64, info.lua too);
#                its runs alternate with info's, so that both sides see the same noise
#   2. info      GET /wx/auth/info with 10,000 users logged in on SQLite, a random one of their
#                tokens per request (wrk -t1 -c64); bound: the baseline
#   3. login     POST /wx/auth/login_by_weixin against wxemu --latency-ms 50, a fresh code per
#                request for 10,000 distinct users (wrk -t1 -c256); bound: 256 / 0.05 s = 5,120/s
#   3b. login on MariaDB, the same (skip with BENCH_MARIADB=0); mariadbd is on core 0 with meetoa
#   4. memory    resident memory of meetoa with 1,000,000 sessions stored in SQLite, 100,000 of
#                them (of 100,000 distinct users) used through /wx/auth/info; plus the growth per
#                extra cached session
#   4b. meeting-list GET /wx/meeting/list?view=upcoming (page 1 of 20) for random members of an
#                organization of 10,000 members, 200,000 meetings, 2,000,000 attendee rows (bench/lib/
#                meetings.sh, written with SQL in seconds), on SQLite then MariaDB (wrk -t1 -c64);
#                answers checked before and after the run (prepare.mjs meetings); wrk's CPU shown;
#                on SQLite once more without the page cache (oa.meeting.list-cache-bytes 0)
#   4c. metrics  the cost of counting: info as in 2 (1,000 users) with a management listener, without
#                and with a scraper (curl GET /metrics once a second, on core 1), three runs in turn
#                (off, on, off); wrk's CPU shown (BENCH_ONLY=metrics: that scenario alone)
#   5. callgrind instructions per request of the info and login paths (bench/callgrind.sh; skip
#                with BENCH_CALLGRIND=0)
# It prints a table and appends it, with the date, machine and commit, to bench/RESULTS.md.
#
# The client: every wrk script formats its requests once in init() (a fixed random order of
# pre-built requests, walked by index) and has no response() callback, so no Lua runs per answer;
# wrk counts socket errors and non-2xx itself. Answers are checked outside the timed runs: a
# sample before and after every run (prepare.mjs info / meetings, logins of fresh users, nginx's
# body compared byte for byte); a wrong answer fails the scenario. Every wrk row reports wrk's
# CPU (user + sys over wall time, /usr/bin/time); above 90 % the client core is saturated and
# the table says so (the row then measures the client, not the server).
#
# Knobs: BENCH_DURATION (seconds per measured wrk run, default 10), BENCH_RUNS (runs per row,
# default 3: each row is their median, with min and max), BENCH_BUILD (build dir, default
# build-release), BENCH_MARIADB, BENCH_CALLGRIND (1/0), BENCH_RESULTS (file to append to),
# BENCH_ONLY (a comma list of scenarios to run, default all: info (with the nginx baseline),
# login-sqlite, login-mariadb, memory, meeting-list (SQLite and, unless BENCH_MARIADB=0,
# MariaDB), metrics, callgrind), BENCH_KEEP (a folder that gets the wrk outputs and the meeting-list's SQLite database, its
# config and its members' tokens, for experiments on the same organization).
# Everything listens on 127.0.0.1 on free ports; everything it starts lives in a temporary
# folder and is stopped at the end (also on failure or Ctrl-C). The system's nginx is never
# touched: ours has its own configuration, pid file and logs in that folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BENCH_BUILD:-build-release}
DURATION=${BENCH_DURATION:-10}
RESULTS=${BENCH_RESULTS:-bench/RESULTS.md}
WITH_MARIADB=${BENCH_MARIADB:-1}
WITH_CALLGRIND=${BENCH_CALLGRIND:-1}
RUNS=${BENCH_RUNS:-3}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_RUNS is a positive number, not '$RUNS'" >&2 && exit 2; }
SCENARIOS=info,login-sqlite,login-mariadb,memory,meeting-list,metrics,callgrind
ONLY=${BENCH_ONLY:-}
for s in ${ONLY//,/ }; do
    case ",$SCENARIOS," in *",$s,"*) ;; *) echo "bench: BENCH_ONLY names scenarios of $SCENARIOS, not '$s'" >&2 && exit 2 ;; esac
done
# want NAME: the scenario is to run (BENCH_ONLY empty: all of them).
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
want callgrind || WITH_CALLGRIND=0
APPID=wxbench00000000001
INFO_USERS=10000
LOGIN_USERS=10000
LOGIN_CONNS=256
LATENCY_MS=50
MEM_SESSIONS=1000000
MEM_USED=100000
ML_USERS=10000
ML_MEETINGS=200000
export BENCH_LIB=$ROOT/bench/lib

log() { echo "bench: $*" >&2; }
die() {
    log "$*"
    exit 1
}

# ---- processes: every one we start is recorded and stopped at the end ----

. bench/lib/procs.sh
. bench/lib/meetings.sh
TMP=""
MARIADB_DIR=""
cleanup() {
    stop_all
    if [ -n "$MARIADB_DIR" ]; then scripts/mariadb.sh stop "$MARIADB_DIR" 2> /dev/null || true; fi
    [ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools and build ----

ensure_tools() {
    local missing=()
    command -v wrk > /dev/null || missing+=(wrk)
    command -v nginx > /dev/null || missing+=(nginx-light)
    if [ "$WITH_CALLGRIND" = 1 ] && ! command -v valgrind > /dev/null; then missing+=(valgrind); fi
    for t in node sqlite3 taskset curl cmake; do command -v "$t" > /dev/null || die "$t is missing (make deps)"; done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
}

build() {
    log "release build in $BUILD"
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMEETOA_SANITIZE=OFF > /dev/null
    cmake --build "$BUILD" -j "$(nproc)" --target meetoa wxemu > /dev/null
}

# ---- starting things ----

# start_wxemu NAME [LATENCY_MS]: wxemu with 50 ms latency (or the one given) on core 1; sets EMU_PORT.
start_wxemu() {
    local name=$1
    taskset -c 1 "$BUILD/wxemu" --host 127.0.0.1 --port 0 --port-file "$TMP/$name.port" \
        --app "$APPID:$SECRET" --latency-ms "${2:-$LATENCY_MS}" --log-level warn > "$TMP/$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 100); do
        [ -s "$TMP/$name.port" ] && break
        sleep 0.05
    done
    EMU_PORT=$(cat "$TMP/$name.port") || die "wxemu did not start: $(cat "$TMP/$name.log")"
}

# write_config FILE DATASOURCE_URL [CACHE_SECONDS]
write_config() {
    cat > "$1" << YAML
server: {host: 127.0.0.1, port: 0, threads: 1}
logging: {level: info}
oa:
  wx: {app-id: $APPID, app-secret: $SECRET, api-base: "http://127.0.0.1:$EMU_PORT", timeout-ms: 5000}
  token: {header: X-OA-Token, expire-seconds: 7200, cache-seconds: ${3:-5}}
  datasource: {url: "$2"}
  security: {data-key: $DATA_KEY}
  # every request comes from 127.0.0.1 and a few users: rate limits off, the cost is measured
  rate-limit: {login-ip: 0, login-openid: 0, phone-ip: 0, phone-openid: 0, upload-ip: 0, upload-openid: 0}
YAML
}

# start_meetoa NAME CONFIG: meetoa on core 0; sets SRV_PID and SRV_PORT.
start_meetoa() {
    local name=$1 line=""
    taskset -c 0 "$BUILD/meetoa" serve --config "$2" > "$TMP/$name.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    for _ in $(seq 1 200); do
        line=$(grep -m1 -o 'listening on http://127.0.0.1:[0-9]*' "$TMP/$name.log" || true)
        [ -n "$line" ] && break
        kill -0 "$SRV_PID" 2> /dev/null || break
        sleep 0.05
    done
    [ -n "$line" ] || die "meetoa ($name) did not start: $(tail -5 "$TMP/$name.log")"
    SRV_PORT=${line##*:}
}

# A TCP port on 127.0.0.1 that nothing listens on right now, below the kernel's ephemeral range
# (wrk's and node's own connections take ports there, and bind() then fails on them).
free_port() {
    local port low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2> /dev/null || echo 32768)
    [ "$low" -gt 12000 ] || low=32768
    for _ in $(seq 1 50); do
        port=$((10000 + RANDOM % (low - 10000)))
        if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free port"
}

# start_nginx BODY_FILE: one worker on core 0, answering the body to every request; sets
# NGINX_PID and NGINX_PORT. Tries another port when the one picked was taken meanwhile.
start_nginx() {
    local body d=$TMP/nginx
    body=$(cat "$1")
    case $body in *"'"* | *"\\"*) die "the info body has a quote or backslash; cannot inline it in nginx.conf" ;; esac
    mkdir -p "$d/tmp"
    for _ in 1 2 3 4 5; do
        NGINX_PORT=$(free_port)
        write_nginx_conf "$d" "$NGINX_PORT" "$body"
        : > "$d/error.log"
        taskset -c 0 nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" > "$d/stdout.log" 2>&1 &
        NGINX_PID=$!
        PIDS+=("$NGINX_PID")
        for _ in $(seq 1 100); do
            curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && return 0
            kill -0 "$NGINX_PID" 2> /dev/null || break
            sleep 0.05
        done
        stop_pid "$NGINX_PID"
        log "nginx on port $NGINX_PORT did not answer: $(cat "$d/error.log" "$d/stdout.log")"
    done
    die "nginx did not start"
}

write_nginx_conf() { # DIR PORT BODY
    cat > "$1/nginx.conf" << CONF
worker_processes 1;
daemon off;
master_process on;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$2;
        location / {
            default_type "application/json;charset=UTF-8";
            return 200 '$3';
        }
    }
}
CONF
}

# ---- measuring ----

# run_wrk NAME SECONDS URL wrk-args...: runs wrk on core 1 timed by /usr/bin/time, keeps its
# output in $TMP/NAME.wrk, prints its BENCH line with wrk_cpu=<user + sys over wall, % of a core>.
run_wrk() {
    local name=$1 seconds=$2 url=$3 line cpu
    shift 3
    taskset -c 1 /usr/bin/time -f 'WRKCPU %U %S %e' -o "$TMP/$name.time" \
        wrk "$@" -d"${seconds}s" --latency "$url" > "$TMP/$name.wrk" 2>&1 ||
        die "wrk failed: $(cat "$TMP/$name.wrk")"
    line=$(grep -m1 '^BENCH ' "$TMP/$name.wrk") || die "no result from wrk: $(cat "$TMP/$name.wrk")"
    cpu=$(awk '/^WRKCPU/ { printf "%.0f", ($2 + $3) * 100 / $4 }' "$TMP/$name.time")
    echo "$line wrk_cpu=$cpu"
}

# combine LINE...: the BENCH lines of several runs as one: runs=N, every field the median of
# the runs (the mean of the middle two for an even count), with NAME_min and NAME_max; the
# counters (requests, errors, socket, status, exhausted) summed over the runs.
combine() {
    printf '%s\n' "$@" | awk '
    function num(x) { return (x == int(x)) ? sprintf("%d", x) : sprintf("%.3f", x) }
    { for (i = 2; i <= NF; i++) {
          k = substr($i, 1, index($i, "=") - 1)
          if (!(k in seen)) { seen[k] = 1; keys[++nk] = k }
          v[k, NR] = substr($i, index($i, "=") + 1) } }
    END {
        out = "BENCH runs=" NR
        for (j = 1; j <= nk; j++) {
            k = keys[j]
            if (k ~ /^(requests|errors|socket|status|exhausted)$/) {
                s = 0; for (r = 1; r <= NR; r++) s += v[k, r]
                out = out " " k "=" s; continue }
            if (k == "seconds") { out = out " seconds=" v[k, 1]; continue }
            for (r = 1; r <= NR; r++) a[r] = v[k, r] + 0
            for (r = 2; r <= NR; r++) { x = a[r]; for (q = r - 1; q >= 1 && a[q] > x; q--) a[q + 1] = a[q]; a[q + 1] = x }
            med = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
            out = out " " k "=" num(med) " " k "_min=" num(a[1]) " " k "_max=" num(a[NR]) }
        print out }'
}

# field LINE NAME: the value of NAME=... in a BENCH line.
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<< "$1"; }

# mm LINE NAME: NAME's median with its min and max, "98,123 (97,800–99,010)" (rps with
# thousands separators, the rest with two decimals); just the value for a single run.
mm() {
    awk -v m="$(field "$1" "$2")" -v lo="$(field "$1" "$2_min")" -v hi="$(field "$1" "$2_max")" -v n="$2" '
    function f(x,   s, i) { if (n != "rps") return sprintf("%.2f", x)
        s = sprintf("%.0f", x); for (i = length(s) - 3; i > 0; i -= 3) s = substr(s, 1, i) "," substr(s, i + 1); return s }
    BEGIN { if (lo == "" || lo == hi && lo == m) print f(m); else print f(m) " (" f(lo) "–" f(hi) ")" }'
}

# saturated LINE: true when wrk used more than 90 % of its core in any run of the row.
saturated() {
    local hi
    hi=$(field "$1" wrk_cpu_max)
    hi=${hi:-$(field "$1" wrk_cpu)}
    [ "${hi:-0}" -gt 90 ]
}

# cpu_cell LINE: wrk's CPU as a table cell, "85 % (max 88)", "97 % (max 99) SATURATED".
cpu_cell() {
    local c hi
    c=$(printf '%.0f' "$(field "$1" wrk_cpu)")
    hi=$(field "$1" wrk_cpu_max)
    if saturated "$1"; then echo "$c % (max ${hi:-$c}) SATURATED"; else echo "$c % (max ${hi:-$c})"; fi
}

# saturation_note NAME=LINE...: one line under a table saying whether the client core was saturated.
saturation_note() {
    local a bad=()
    for a in "$@"; do saturated "${a#*=}" && bad+=("${a%%=*}"); done
    if [ ${#bad[@]} -eq 0 ]; then
        echo "Client core: wrk stayed at or below 90 % of its core in every run of every row above (not saturated): the rows measure the server."
    else
        local IFS=';'
        echo "Client core SATURATED (wrk above 90 % of its core) in: ${bad[*]}. Those rows are bounded by the client, not the server."
    fi
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# ---- the scenarios ----

scenario_info_and_baseline() {
    log "info: logging in $INFO_USERS users"
    taskset -c 1 node bench/prepare.mjs logins --emu "http://127.0.0.1:$EMU_PORT" \
        --server "http://127.0.0.1:$SRV_PORT" --appid "$APPID" --users "$INFO_USERS" --prefix info- \
        --out "$TMP/info.tokens" > /dev/null
    curl -s "http://127.0.0.1:$SRV_PORT/wx/auth/info" -H "X-OA-Token: $(head -1 "$TMP/info.tokens")" > "$TMP/info.body"
    grep -q '^{"errno":0' "$TMP/info.body" || die "info answered $(cat "$TMP/info.body")"
    INFO_BODY_BYTES=$(wc -c < "$TMP/info.body")
    export BENCH_TOKENS=$TMP/info.tokens

    log "baseline: nginx with the same $INFO_BODY_BYTES-byte body"
    start_nginx "$TMP/info.body"
    curl -s "http://127.0.0.1:$NGINX_PORT/" > "$TMP/nginx.body"
    cmp -s "$TMP/nginx.body" "$TMP/info.body" ||
        die "nginx answers $(wc -c < "$TMP/nginx.body") bytes, not the $INFO_BODY_BYTES of info: $(cat "$TMP/nginx.body")"
    run_wrk baseline-warm 2 "http://127.0.0.1:$NGINX_PORT" -t1 -c64 -s bench/lib/info.lua > /dev/null
    run_wrk info-warm 2 "http://127.0.0.1:$SRV_PORT" -t1 -c64 -s bench/lib/info.lua > /dev/null
    # The runs alternate (baseline 1, info 1, baseline 2, ...): both see the same noise. nginx
    # idles during info's runs and meetoa during the baseline's.
    local i base=() info=()
    nginx_check baseline-before
    info_check info-before "$TMP/info.tokens"
    for i in $(seq 1 "$RUNS"); do
        log "baseline: run $i of $RUNS, $DURATION s"
        base+=("$(run_wrk "baseline-$i" "$DURATION" "http://127.0.0.1:$NGINX_PORT" -t1 -c64 -s bench/lib/info.lua)")
        nginx_check "baseline-$i-after"
        log "info: run $i of $RUNS, $DURATION s"
        info+=("$(run_wrk "info-$i" "$DURATION" "http://127.0.0.1:$SRV_PORT" -t1 -c64 -s bench/lib/info.lua)")
        info_check "info-$i-after" "$TMP/info.tokens"
    done
    stop_pid "$NGINX_PID"
    R_BASE=$(combine "${base[@]}")
    R_INFO=$(combine "${info[@]}")
    log "baseline: $R_BASE"
    log "info: $R_INFO"
}

# nginx_check NAME: nginx still answers info's very bytes.
nginx_check() {
    curl -s "http://127.0.0.1:$NGINX_PORT/" > "$TMP/$1.body"
    cmp -s "$TMP/$1.body" "$TMP/info.body" || die "$1: nginx answered $(head -c 300 "$TMP/$1.body")"
}

# info_check NAME TOKENS: a sample of 200 tokens' /wx/auth/info answers checked (prepare.mjs info).
info_check() {
    taskset -c 1 node bench/prepare.mjs info --server "http://127.0.0.1:$SRV_PORT" \
        --tokens "$2" --sample 200 > "$TMP/$1.check" || die "$1: wrong answers: $(cat "$TMP/$1.check")"
}

# login_check NAME: 20 users of their own log in (errno 0, a token each) and their tokens answer info.
login_check() {
    taskset -c 1 node bench/prepare.mjs logins --emu "http://127.0.0.1:$EMU_PORT" \
        --server "http://127.0.0.1:$SRV_PORT" --appid "$APPID" --users 20 --prefix "$1-" \
        --out "$TMP/$1.tokens" > /dev/null || die "$1: a login failed"
    info_check "$1" "$TMP/$1.tokens"
}

# scenario_login NAME: needs EMU_PORT and SRV_PORT; sets R_<NAME>.
scenario_login() {
    local name=$1 count
    # Enough codes for the ideal rate with a margin (codes are single-use; wxemu keeps 5 min).
    count=$((LOGIN_CONNS * 1000 * DURATION * 5 / 4 / LATENCY_MS + 2000))
    local i r runs=()
    login_check "$name-check-before"
    for i in $(seq 1 "$RUNS"); do
        # Fresh codes for each run, made just before it (single-use; wxemu keeps them 5 min).
        log "$name: run $i of $RUNS: $count fresh codes for $LOGIN_USERS users"
        taskset -c 1 node bench/prepare.mjs codes --emu "http://127.0.0.1:$EMU_PORT" --appid "$APPID" \
            --users "$LOGIN_USERS" --prefix "$name-" --count "$count" --out "$TMP/$name-$i.codes" > /dev/null
        log "$name: run $i of $RUNS: $DURATION s, $LOGIN_CONNS connections, wxemu latency $LATENCY_MS ms"
        r=$(BENCH_CODES=$TMP/$name-$i.codes BENCH_THREADS=1 run_wrk "$name-$i" "$DURATION" "http://127.0.0.1:$SRV_PORT" \
            -t1 -c"$LOGIN_CONNS" -s bench/lib/login.lua)
        [ "$(field "$r" exhausted)" = 0 ] || die "$name: run $i ran out of codes (reused ones are refused): $r"
        login_check "$name-check-$i-after"
        runs+=("$r")
        rm -f "$TMP/$name-$i.codes"
    done
    r=$(combine "${runs[@]}")
    log "$name: $r"
    printf -v "R_${name^^}" '%s' "$r"
}

scenario_memory() {
    local db=$TMP/memory.db now
    log "memory: $MEM_SESSIONS sessions in a fresh SQLite database"
    write_config "$TMP/memory.yml" "sqlite:$db"
    taskset -c 0 "$BUILD/meetoa" migrate --config "$TMP/memory.yml" > /dev/null 2>&1
    local extra=$((MEM_USED / 2))
    # Tokens minted like MeetOA does: MEM_USED of distinct users, then `extra` more sessions of
    # the first users (to measure what a session of an already cached user costs).
    node bench/prepare.mjs mint --data-key "$DATA_KEY" --count $((MEM_USED + extra)) --users "$MEM_USED" \
        --out-tokens "$TMP/memory.tokens" --out-sql "$TMP/memory.sql" > /dev/null
    now=$(date +%s)
    sqlite3 "$db" << SQL
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
BEGIN;
INSERT INTO wx_user (username, weixin_openid, unionid, nickname, avatar, gender, status,
                     add_time, update_time, last_login_time, last_login_ip)
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $MEM_USED)
SELECT 'obenchmem' || i, 'obenchmem' || i, 'ubenchmem' || i, 'bench user ' || i,
       'https://example.com/avatar/' || i || '.png', i % 3, 0, datetime('now', 'localtime'),
       datetime('now', 'localtime'), datetime('now', 'localtime'), '127.0.0.1' FROM c;
INSERT INTO wx_session (token_hash, user_id, created_at, expires_at, session_key_sealed)
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $((MEM_SESSIONS - MEM_USED - extra)))
SELECT randomblob(32), i % $MEM_USED + 1, $now, $now + 7200, randomblob(52) FROM c;
COMMIT;
.read $TMP/memory.sql
SQL
    MEM_STORED=$(sqlite3 "$db" 'SELECT count(*) FROM wx_session')
    [ "$MEM_STORED" = "$MEM_SESSIONS" ] || die "memory: $MEM_STORED sessions stored, wanted $MEM_SESSIONS"

    start_meetoa memory "$TMP/memory.yml"
    local half=$((MEM_USED / 2))
    MEM_RSS0=$(rss_kib "$SRV_PID")
    drive() {
        taskset -c 1 node bench/prepare.mjs drive --server "http://127.0.0.1:$SRV_PORT" \
            --tokens "$TMP/memory.tokens" --from "$1" --to "$2" --concurrency 64 ||
            die "memory: some tokens were refused"
    }
    log "memory: using $MEM_USED sessions"
    drive 0 "$half" > /dev/null
    MEM_RSS_HALF=$(rss_kib "$SRV_PID")
    drive "$half" "$MEM_USED" > /dev/null
    MEM_RSS=$(rss_kib "$SRV_PID")
    drive "$MEM_USED" $((MEM_USED + extra)) > /dev/null
    MEM_RSS_EXTRA=$(rss_kib "$SRV_PID")
    MEM_ERRORS=0
    MEM_EXTRA=$extra
    MEM_HALF=$half
    stop_pid "$SRV_PID"
    rm -f "$db" "$db-wal" "$db-shm"
}

scenario_mariadb() {
    log "login on MariaDB: starting a private mariadbd"
    local envout url
    envout=$(scripts/mariadb.sh start) || die "mariadbd did not start"
    url=$(sed -n 's/^MEETOA_TEST_MYSQL_URL=//p' <<< "$envout")
    MARIADB_DIR=$(sed -n 's/^MEETOA_TEST_MYSQL_DIR=//p' <<< "$envout")
    taskset -a -c -p 0 "$(cat "$MARIADB_DIR/server.pid")" > /dev/null
    start_wxemu wxemu-mariadb
    write_config "$TMP/mariadb.yml" "$url"
    start_meetoa meetoa-mariadb "$TMP/mariadb.yml"
    scenario_login login_mariadb
    stop_pid "$SRV_PID"
    scripts/mariadb.sh stop "$MARIADB_DIR" 2> /dev/null
    MARIADB_DIR=""
}

# ---- meeting-list: the 会议 tab's upcoming page in a big organization ----

# ml_wrk NAME SECONDS: wrk on core 1 against SRV_PORT with meeting_list.lua, timed by
# /usr/bin/time; prints the BENCH line with wrk_cpu=<percent of one core> appended.
ml_wrk() {
    local name=$1 seconds=$2 line bytes
    line=$(BENCH_TOKENS=$TMP/ml.tokens run_wrk "$name" "$seconds" "http://127.0.0.1:$SRV_PORT" -t1 -c64 \
        -s bench/lib/meeting_list.lua)
    # Bytes per answer from wrk's "Transfer/sec: 12.34MB" and the rate: the pages are whole.
    bytes=$(awk -v rps="$(field "$line" rps)" '/^Transfer\/sec:/ { v = $2; m = 1
        if (v ~ /KB$/) m = 1024; if (v ~ /MB$/) m = 1048576; if (v ~ /GB$/) m = 1073741824
        sub(/[KMG]?B$/, "", v); printf "%.0f", v * m / rps }' "$TMP/$name.wrk")
    cp "$TMP/$name.wrk" "$TMP/$name.time" "${BENCH_KEEP:-$TMP}/" 2> /dev/null || true
    echo "$line bytes=$bytes"
}

# ml_runs NAME: RUNS measured runs, each followed by a check (the first preceded by one);
# prints their combined BENCH line.
ml_runs() {
    local i runs=()
    ml_check "$1-before"
    for i in $(seq 1 "$RUNS"); do
        log "$1: run $i of $RUNS, $DURATION s"
        runs+=("$(ml_wrk "$1-$i" "$DURATION")")
        ml_check "$1-$i-after"
    done
    combine "${runs[@]}"
}

# ml_check NAME: a sample of 500 members' first pages checked (errno 0, 20 items, soonest first).
ml_check() {
    taskset -c 1 node bench/prepare.mjs meetings --server "http://127.0.0.1:$SRV_PORT" \
        --tokens "$TMP/ml.tokens" --sample 500 > "$TMP/$1.check" || die "$1: wrong answers: $(cat "$TMP/$1.check")"
    log "$1: $(cat "$TMP/$1.check")"
}

# scenario_meeting_list sqlite|mariadb: sets R_ML_SQLITE (and R_ML_SQLITE_COLD: no page cache) or
# R_ML_MARIADB and ML_LOAD_<backend>
# (seconds the SQL took) and ML_CHECK (the last check's JSON).
scenario_meeting_list() {
    local backend=$1 url cfg=$TMP/ml-$1.yml t0 envout root_sql=()
    if [ "$backend" = sqlite ]; then
        url="sqlite:$TMP/ml.db"
    else
        log "meeting-list on MariaDB: starting a private mariadbd"
        envout=$(scripts/mariadb.sh start) || die "mariadbd did not start"
        url=$(sed -n 's/^MEETOA_TEST_MYSQL_URL=//p' <<< "$envout")
        MARIADB_DIR=$(sed -n 's/^MEETOA_TEST_MYSQL_DIR=//p' <<< "$envout")
        taskset -a -c -p 0 "$(cat "$MARIADB_DIR/server.pid")" > /dev/null
        root_sql=(mariadb --no-defaults -S "$MARIADB_DIR/sock" -u root meetoa)
        # scripts/mariadb.sh starts with a 32 MiB buffer pool (tests); the organization is about
        # 500 MiB in InnoDB: a pool that holds it, as a production server would have.
        "${root_sql[@]}" -e 'SET GLOBAL innodb_buffer_pool_size = 1073741824' || die "buffer pool not resized"
    fi
    start_wxemu "wxemu-ml-$backend" 0
    write_config "$cfg" "$url"
    start_meetoa "meetoa-ml-$backend" "$cfg"
    log "meeting-list ($backend): logging in $ML_USERS members"
    taskset -c 1 node bench/prepare.mjs logins --emu "http://127.0.0.1:$EMU_PORT" \
        --server "http://127.0.0.1:$SRV_PORT" --appid "$APPID" --users "$ML_USERS" --prefix ml- \
        --out "$TMP/ml.tokens" > /dev/null
    stop_pid "$SRV_PID"
    log "meeting-list ($backend): $ML_MEETINGS meetings, about $((ML_MEETINGS * 10)) attendee rows"
    t0=$(date +%s.%N)
    if [ "$backend" = sqlite ]; then
        # Indexes of the two big tables are dropped for the load and made again after it (a
        # sort each: 3 times faster than 2,000,000 random index inserts), from their own DDL.
        local q="FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('oa_meeting', 'oa_attendee') AND sql IS NOT NULL"
        local drops creates
        drops=$(sqlite3 "$TMP/ml.db" "SELECT 'DROP INDEX ' || name || ';' $q")
        creates=$(sqlite3 "$TMP/ml.db" "SELECT sql || ';' $q")
        {
            echo 'PRAGMA journal_mode = OFF;'
            meetings_sql sqlite "$ML_USERS" "$ML_MEETINGS" "$(date +%s)" |
                awk -v d="$drops" -v c="$creates" '/^BEGIN;$/ { print; print d; next } /^COMMIT;$/ { print c } { print }'
            echo 'PRAGMA journal_mode = WAL;'
            echo 'ANALYZE;'
        } | sqlite3 "$TMP/ml.db" > /dev/null || die "meeting-list: the SQLite load failed"
    else
        { meetings_sql mysql "$ML_USERS" "$ML_MEETINGS" "$(date +%s)"; echo 'ANALYZE TABLE oa_meeting, oa_attendee, oa_member;'; } |
            "${root_sql[@]}" > /dev/null || die "meeting-list: the MariaDB load failed"
    fi
    printf -v "ML_LOAD_${backend^^}" '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)"
    start_meetoa "meetoa-ml-$backend-2" "$cfg"
    ml_wrk "ml-$backend-warm" 2 > /dev/null
    local r
    r=$(ml_runs "ml-$backend")
    ML_CHECK=$(cat "$TMP/ml-$backend-$RUNS-after.check")
    printf -v "R_ML_${backend^^}" '%s' "$r"
    log "meeting-list ($backend): $r"
    stop_pid "$SRV_PID"
    if [ "$backend" = sqlite ]; then
        # The same without the page cache (oa.meeting.list-cache-bytes 0): every page is its
        # count and its query, as for a member's first look or after a change.
        { cat "$cfg"; echo '  meeting: {list-cache-bytes: 0}'; } > "$cfg.cold"
        start_meetoa "meetoa-ml-$backend-cold" "$cfg.cold"
        ml_wrk "ml-$backend-cold-warm" 2 > /dev/null
        r=$(ml_runs "ml-$backend-cold")
        R_ML_SQLITE_COLD=$r
        log "meeting-list ($backend, no page cache): $r"
        stop_pid "$SRV_PID"
    fi
    if [ "$backend" = sqlite ] && [ -n "${BENCH_KEEP:-}" ]; then
        cp "$TMP/ml.db" "$TMP/ml.tokens" "$BENCH_KEEP/" && sed "s|$TMP/ml.db|$BENCH_KEEP/ml.db|" "$cfg" > "$BENCH_KEEP/ml-sqlite.yml"
    fi
    if [ "$backend" = mariadb ]; then
        scripts/mariadb.sh stop "$MARIADB_DIR" 2> /dev/null
        MARIADB_DIR=""
    fi
}

# ---- the report ----

# verdict OK_EXPR: "met" or "MISSED" from an awk condition on the given variables.
verdict() { awk "BEGIN { exit !($1) }" && echo met || echo MISSED; }

row() { # NAME BENCH_LINE BOUND_TEXT RATIO TARGET VERDICT
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(mm "$2" rps)" "$(mm "$2" p50_ms)" \
        "$(mm "$2" p99_ms)" "$(field "$2" errors)" "$(cpu_cell "$2")" "$3" "$4" "$5" "$6"
}

# The meeting-list table (one row per backend measured).
report_meeting_list() {
    local b r v name
    local notes=()
    echo "| scenario | pages/s | p50 ms | p99 ms | errors | wrk CPU | data load s | target | verdict |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---|"
    for b in sqlite sqlite_cold mariadb; do
        name="R_ML_${b^^}"
        r=${!name:-}
        [ -n "$r" ] || continue
        name="ML_LOAD_${b^^}"
        name=${name/_COLD/}
        local what="$b, page cache warm" target="beside SQLite"
        v="stated"
        if [ "$b" = sqlite ]; then
            v=$(verdict "$(field "$r" rps) >= 10000 && $(field "$r" p99_ms) < 10 && $(field "$r" errors) == 0")
            target="≥ 10,000/s, p99 < 10 ms, 0 errors"
        elif [ "$b" = sqlite_cold ]; then
            what="sqlite, no page cache (list-cache-bytes 0)"
            target="beside the warm row"
        fi
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
            "meeting list upcoming, 10,000 members, 200,000 meetings, $what" "$(mm "$r" rps)" \
            "$(mm "$r" p50_ms)" "$(mm "$r" p99_ms)" "$(field "$r" errors)" "$(cpu_cell "$r")" "${!name}" \
            "$target" "$v"
        notes+=("meeting list $what=$r")
    done
    echo
    saturation_note "${notes[@]}"
    echo "Answers checked before and after each run (500 members, errno 0, min(20, total) items, soonest first, state 4/5); last check: $ML_CHECK."
}

report() {
    if [ -n "${R_INFO:-}${R_LOGIN:-}${R_LOGIN_MARIADB:-}${MEM_RSS:-}" ]; then
        report_main
        echo
    fi
    if [ -n "${R_MET_ON:-}" ]; then
        report_metrics
        echo
    fi
    if [ -n "${R_ML_SQLITE:-}" ]; then
        report_meeting_list
    fi
}

report_main() {
    local base info login ratio_i ratio_l v notes=()
    echo "| scenario | requests/s | p50 ms | p99 ms | errors | wrk CPU | bound | ratio | target | verdict |"
    echo "|---|---:|---:|---:|---:|---:|---|---:|---|---|"
    if [ -n "${R_INFO:-}" ]; then
        base=$(field "$R_BASE" rps)
        info=$(field "$R_INFO" rps)
        # The ratio of the medians, both measured in this run, their runs alternating.
        ratio_i=$(awk "BEGIN { printf \"%.2f\", $info / $base }")
        row "baseline: nginx return 200, ${INFO_BODY_BYTES} B body" "$R_BASE" "one core" "1.00" "—" "—"
        v=$(verdict "$ratio_i >= 0.75 && $(field "$R_INFO" p99_ms) <= 2 && $(field "$R_INFO" errors) == 0")
        row "info: 10,000 users, random token, SQLite" "$R_INFO" "baseline $(mm "$R_BASE" rps | cut -d' ' -f1)/s" "$ratio_i" \
            "≥ 0.75 × baseline, p99 ≤ 2 ms, 0 errors" "$v"
        notes+=("baseline=$R_BASE" "info=$R_INFO")
    fi
    if [ -n "${R_LOGIN:-}" ]; then
        login=$(field "$R_LOGIN" rps)
        ratio_l=$(awk "BEGIN { printf \"%.2f\", $login / 5120 }")
        v=$(verdict "$login >= 3000 && $(field "$R_LOGIN" p99_ms) <= 150 && $(field "$R_LOGIN" errors) == 0")
        row "login: SQLite, wxemu 50 ms, c256" "$R_LOGIN" "ideal 5,120/s" "$ratio_l" \
            "≥ 3,000/s (0.6 ×), p99 ≤ 150 ms, 0 errors" "$v"
        notes+=("login SQLite=$R_LOGIN")
    fi
    if [ -n "${R_LOGIN_MARIADB:-}" ]; then
        notes+=("login MariaDB=$R_LOGIN_MARIADB")
        local lm
        lm=$(field "$R_LOGIN_MARIADB" rps)
        # The issue's MariaDB target is a rate; its p99 is shown, and stays a known gap (RESULTS.md).
        v=$(verdict "$lm >= 2000 && $(field "$R_LOGIN_MARIADB" errors) == 0")
        row "login: MariaDB, wxemu 50 ms, c256" "$R_LOGIN_MARIADB" "ideal 5,120/s" \
            "$(awk "BEGIN { printf \"%.2f\", $lm / 5120 }")" "≥ 2,000/s, 0 errors" "$v"
    fi
    echo
    [ ${#notes[@]} -eq 0 ] || saturation_note "${notes[@]}"
    [ -n "${MEM_RSS:-}" ] || return 0
    local mib
    mib=$(awk "BEGIN { printf \"%.1f\", $MEM_RSS / 1024 }")
    v=$(verdict "$MEM_RSS <= 262144 && $MEM_ERRORS == 0")
    echo
    echo "| scenario | errors | bound | ratio | target | verdict |"
    echo "|---|---:|---|---:|---|---|"
    printf '| %s | %s | %s | %s | %s | %s |\n' \
        "memory: RSS $mib MiB, 1,000,000 stored, 100,000 used (one measurement)" "$MEM_ERRORS" "256 MiB" \
        "$(awk "BEGIN { printf \"%.2f\", $MEM_RSS / 262144 }")" "≤ 256 MiB" "$v"
    echo
    awk -v r0="$MEM_RSS0" -v rh="$MEM_RSS_HALF" -v r="$MEM_RSS" -v rx="$MEM_RSS_EXTRA" -v h="$MEM_HALF" \
        -v x="$MEM_EXTRA" 'BEGIN {
        printf "Memory: RSS %.1f MiB at start, %.1f MiB after %d sessions used, %.1f MiB after %d, %.1f MiB after %d more sessions of users already cached.\n",
            r0 / 1024, rh / 1024, h, r / 1024, 2 * h, rx / 1024, x
        printf "Growth per extra cached session: %.0f bytes when its user is new to the cache (session + user entry), %.0f bytes when its user is already cached.\n",
            (r - rh) * 1024 / h, (rx - r) * 1024 / x }'
}

# ---- metrics: the cost of counting ----

# met_wrk NAME SECONDS: info's wrk on core 1 timed by /usr/bin/time; the BENCH line with wrk_cpu=%.
met_wrk() {
    local name=$1 seconds=$2 line t0 t1 srv
    t0=$(awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat")
    line=$(BENCH_TOKENS=$TMP/met.tokens run_wrk "$name" "$seconds" "http://127.0.0.1:$SRV_PORT" -t1 -c64 -s bench/lib/info.lua)
    t1=$(awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat")
    # meetoa's CPU (utime + stime in clock ticks) per answered request, in microseconds
    srv=$(awk -v d="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v rps="$(field "$line" rps)" -v s="$seconds" \
        'BEGIN { printf "%.1f", d / hz * 1e6 / (rps * s) }')
    echo "$line srv_us=$srv"
}

scenario_metrics() {
    local mport n scraper
    mport=$(free_port)
    write_config "$TMP/metrics.yml" "sqlite:$TMP/metrics.db"
    echo "management: {server: {port: $mport, address: 127.0.0.1}}" >> "$TMP/metrics.yml"
    start_meetoa meetoa-metrics "$TMP/metrics.yml"
    log "metrics: logging in 1000 users"
    taskset -c 1 node bench/prepare.mjs logins --emu "http://127.0.0.1:$EMU_PORT" \
        --server "http://127.0.0.1:$SRV_PORT" --appid "$APPID" --users 1000 --prefix met- \
        --out "$TMP/met.tokens" > /dev/null
    curl -sf "http://127.0.0.1:$mport/metrics" > "$TMP/metrics.txt" || die "no /metrics on $mport"
    met_wrk met-warm 2 > /dev/null
    info_check met-before "$TMP/met.tokens"
    local i off=() on=() off2=()
    : > "$TMP/scrapes"
    for i in $(seq 1 "$RUNS"); do
        log "metrics: run $i of $RUNS: info without scraping, $DURATION s"
        off+=("$(met_wrk "met-off-$i" "$DURATION")")
        log "metrics: run $i of $RUNS: info with a scrape a second, $DURATION s"
        taskset -c 1 bash -c "while :; do curl -sf -o /dev/null http://127.0.0.1:$mport/metrics && echo ok >> '$TMP/scrapes'; sleep 1; done" &
        scraper=$!
        PIDS+=("$scraper")
        on+=("$(met_wrk "met-on-$i" "$DURATION")")
        kill "$scraper" 2> /dev/null || true
        wait "$scraper" 2> /dev/null || true
        log "metrics: run $i of $RUNS: info without scraping again, $DURATION s"
        off2+=("$(met_wrk "met-off2-$i" "$DURATION")")
        info_check "met-$i-after" "$TMP/met.tokens"
    done
    R_MET_OFF=$(combine "${off[@]}")
    R_MET_ON=$(combine "${on[@]}")
    R_MET_OFF2=$(combine "${off2[@]}")
    MET_SCRAPES=$(wc -l < "$TMP/scrapes")
    curl -sf "http://127.0.0.1:$mport/metrics" > "$TMP/metrics.txt"
    MET_BYTES=$(wc -c < "$TMP/metrics.txt")
    MET_COUNTED=$(sed -n 's/^meetoa_http_requests_total{route="\/wx\/auth\/info",errno="0"} //p' "$TMP/metrics.txt")
    stop_pid "$SRV_PID"
}

report_metrics() {
    local off on off2 mean
    off=$(field "$R_MET_OFF" rps)
    on=$(field "$R_MET_ON" rps)
    off2=$(field "$R_MET_OFF2" rps)
    mean=$(awk "BEGIN { printf \"%.0f\", ($off + $off2) / 2 }")
    echo "| metrics cost: info, 1,000 users, SQLite | requests/s | p50 ms | p99 ms | errors | wrk CPU | meetoa CPU µs/request |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for r in "no scrape:$R_MET_OFF" "a scrape a second:$R_MET_ON" "no scrape again:$R_MET_OFF2"; do
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${r%%:*}" "$(mm "${r#*:}" rps)" "$(mm "${r#*:}" p50_ms)" \
            "$(mm "${r#*:}" p99_ms)" "$(field "${r#*:}" errors)" "$(cpu_cell "${r#*:}")" "$(mm "${r#*:}" srv_us)"
    done
    echo
    saturation_note "no scrape=$R_MET_OFF" "a scrape a second=$R_MET_ON" "no scrape again=$R_MET_OFF2"
    awk -v on="$on" -v mean="$mean" -v n="$MET_SCRAPES" -v b="$MET_BYTES" -v c="$MET_COUNTED" 'BEGIN {
        printf "With a scrape a second: %.1f %% of the mean of the runs without (%d scrapes of %d bytes; %s info requests counted in all).\n",
            on * 100 / mean, n, b, c }'
}

# ---- main ----

main() {
    local started=$SECONDS load
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    ensure_tools
    build
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/meetoa-bench.XXXXXX")
    SECRET=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    DATA_KEY=$(head -c 32 /dev/urandom | base64)

    start_wxemu wxemu
    if want info || want login-sqlite; then
        write_config "$TMP/sqlite.yml" "sqlite:$TMP/meetoa.db"
        start_meetoa meetoa "$TMP/sqlite.yml"
        if want info; then scenario_info_and_baseline; fi
        if want login-sqlite; then scenario_login login; fi
        stop_pid "$SRV_PID"
    fi
    if want memory; then scenario_memory; fi
    if want login-mariadb && [ "$WITH_MARIADB" = 1 ]; then scenario_mariadb; fi
    if want metrics; then scenario_metrics; fi
    if want meeting-list; then
        scenario_meeting_list sqlite
        if [ "$WITH_MARIADB" = 1 ]; then scenario_meeting_list mariadb; fi
    fi

    local cg=""
    if [ "$WITH_CALLGRIND" = 1 ]; then
        log "callgrind: instructions per request (slow: the server runs under valgrind)"
        cg=$(bench/callgrind.sh "$BUILD" "$TMP/callgrind") || die "callgrind failed"
    fi

    local table commit dirty=""
    table=$(report)
    commit=$(git rev-parse --short HEAD 2> /dev/null || echo unknown)
    git diff --quiet HEAD -- src tools CMakeLists.txt 2> /dev/null || dirty=" (with uncommitted changes in src/ or tools/)"
    {
        echo
        echo "## $(date -u '+%Y-%m-%d %H:%M UTC') — commit $commit$dirty"
        echo
        echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -r); load average before the run: $load (other processes on the machine add noise to core 0)."
        echo "Command: \`${ONLY:+BENCH_ONLY=$ONLY }BENCH_RUNS=$RUNS make bench\` (\`bench/run.sh\`), $DURATION s per wrk run; server on core 0, wrk/node/wxemu on core 1;"
        echo "meetoa \`threads: 1\`, pool-size 4, cache-seconds 5, Release build; wrk -t1 -c64 (baseline, info, meeting list), -t1 -c$LOGIN_CONNS (login);"
        echo "each wrk row: the median of $RUNS runs (min–max in brackets), requests pre-formatted in init(), no per-answer Lua, answers checked before and after every run; wrk CPU = user + sys over wall time."
        echo
        echo "$table"
        if [ -n "$cg" ]; then
            echo
            echo "$cg"
        fi
        echo
        echo "Run time: $((SECONDS - started)) s."
    } > "$TMP/section.md"
    cat "$TMP/section.md"
    cat "$TMP/section.md" >> "$RESULTS"
    log "appended to $RESULTS ($((SECONDS - started)) s)"
}

main "$@"

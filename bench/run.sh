#!/usr/bin/env bash
# bench/run.sh — `make bench`: MeetOA's throughput, latency and memory, measured in one run.
#
# What it does, one scenario after the other, the server side pinned to core 0 and the
# load generator (wrk, node) and the WeChat emulator pinned to core 1 (taskset). The names are
# BENCH_ONLY's:
#   info         GET /wx/auth/info with 10,000 users logged in on SQLite, a random one of their
#                tokens per request (wrk -t1 -c64), cache warm (cache-seconds 5); bound: the
#                baseline, nginx with one worker, access_log off, `return 200` with the very bytes
#                MeetOA answers (the same client); the runs of every scenario of this group
#                alternate with the baseline's, so that both sides see the same noise
#   info-expiring the same against a second meetoa on the same database with cache-seconds 2:
#                every session in use is revalidated from SQLite every 2 s (10,000 / 2 = 5,000
#                database reads a second), counted from its /metrics; bound: the same baseline
#   verify       GET /wx/auth/verify (nginx's auth_request) with the same tokens, the users made
#                members (SQL); bound: nginx's location = /wx/auth/verify answering what verify
#                answers (200, no body, the X-OA-* and Cache-Control headers, same widths)
#   login-sqlite POST /wx/auth/login_by_weixin against wxemu --latency-ms 50, a fresh code per
#                request for 10,000 distinct users (wrk -t1 -c256); bound: 256 / 0.05 s = 5,120/s
#   login-mariadb the same on MariaDB (skip with BENCH_MARIADB=0); mariadbd on core 0 with meetoa
#   memory       resident memory of meetoa with 1,000,000 sessions stored in SQLite, 100,000 of
#                them (of 100,000 distinct users) used through /wx/auth/info; plus the growth per
#                extra cached session
#   meeting-list GET /wx/meeting/list?view=upcoming (page 1 of 20) for random members of an
#                organization of 10,000 members, 200,000 meetings, 2,000,000 attendee rows (bench/lib/
#                meetings.sh, written with SQL in seconds), on SQLite then MariaDB (wrk -t1 -c64);
#                answers checked before and after the run (prepare.mjs meetings); wrk's CPU shown;
#                on SQLite once more without the page cache (oa.meeting.list-cache-bytes 0)
#   vote-signin  sign-ins (POST /wx/meeting/checkin by the meeting's code) and ballots (POST
#                /wx/vote/cast) on SQLite, 200 meetings in progress, 10,000 members their attendees
#                (bench/lib/votes.sh, SQL; tokens minted), wrk -t1 -c64 (bench/lib/vote_signin.lua).
#                Every run has a fresh round (200 new meetings, the earlier ones ended, enough
#                open questions a meeting for BENCH_VS_RATE operations a second, default 30,000),
#                each operation a distinct (attendee, meeting) sign-in or (attendee, question)
#                ballot sent at most once; after the run the database is compared with meetoa's
#                answers (errno 0 counted by its /metrics) and with what wrk handed out: lost,
#                doubled, counters that disagree (report_main's note says how)
#   metrics      the cost of counting: info as above (1,000 users) with a management listener,
#                without and with a scraper (curl GET /metrics once a second, on core 1), three
#                runs in turn (off, on, off); wrk's CPU shown
#   callgrind    instructions per request of the info and login paths (bench/callgrind.sh; skip
#                with BENCH_CALLGRIND=0); the cached info figure gets a verdict row
# It prints a table and appends it, with the date, machine and commit, to bench/RESULTS.md.
#
# The client: every wrk script formats its requests once in init() (a fixed random order of
# pre-built requests, walked by index) and has no response() callback, so no Lua runs per answer;
# wrk counts socket errors and non-2xx itself. Answers are checked outside the timed runs: a
# sample before and after every run (prepare.mjs info / verify / meetings / votes, logins of
# fresh users, nginx's body and verify head compared); a wrong answer fails the scenario. Every
# wrk row reports wrk's CPU (user + sys over wall time, /usr/bin/time); above 90 % the client
# core is saturated and
# the table says so (the row then measures the client, not the server).
#
# Knobs: BENCH_DURATION (seconds per measured wrk run, default 10), BENCH_RUNS (runs per row,
# default 3: each row is their median, with min and max), BENCH_BUILD (build dir, default
# build-release), BENCH_MARIADB, BENCH_CALLGRIND (1/0), BENCH_RESULTS (file to append to),
# BENCH_ONLY (a comma list of scenarios to run, default all: info, info-expiring, verify (each
# with its nginx baseline), login-sqlite, login-mariadb, memory, meeting-list (SQLite and, unless
# BENCH_MARIADB=0, MariaDB), vote-signin, metrics, callgrind), BENCH_VS_RATE, BENCH_KEEP (a folder that gets the wrk outputs and the meeting-list's SQLite database, its
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
SCENARIOS=info,info-expiring,verify,login-sqlite,login-mariadb,memory,meeting-list,vote-signin,metrics,callgrind
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
EXP_CACHE_SECONDS=2
VS_USERS=10000
VS_MEETINGS=200
VS_CONNS=64
VS_CHECKS=20
# vote-signin: operations prepared per run for up to this many a second (a run that uses them
# all fails: raise it)
VS_RATE=${BENCH_VS_RATE:-30000}
export BENCH_LIB=$ROOT/bench/lib

log() { echo "bench: $*" >&2; }
die() {
    log "$*"
    exit 1
}

# ---- processes: every one we start is recorded and stopped at the end ----

. bench/lib/procs.sh
. bench/lib/meetings.sh
. bench/lib/votes.sh
TMP=""
MARIADB_DIR=""
CG=""
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

# start_nginx BODY_FILE: one worker on core 0, answering the body to every request (and, with
# NGINX_VERIFY set to add_header lines, those headers and no body to /wx/auth/verify); sets
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
        server_tokens off;
        location / {
            default_type "application/json;charset=UTF-8";
            return 200 '$3';
        }
        # GET /wx/auth/verify's answer (when the verify scenario runs): 200, no body, headers
        location = /wx/auth/verify {
            default_type "";
            ${NGINX_VERIFY:-return 404;}
            return 200;
        }
    }
}
CONF
}

# ---- measuring ----

# proc_ticks PID: the CPU time (user + system, clock ticks) a process used so far, all its threads.
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run_wrk NAME SECONDS URL wrk-args...: runs wrk on core 1 timed by /usr/bin/time, keeps its
# output in $TMP/NAME.wrk, prints its BENCH line with wrk_cpu=<user + sys over wall, % of a core>.
# With WATCH_PID set (the server's process: meetoa, or nginx's worker) also srv_us=<that process's
# CPU time per answered request, µs>: what a request costs the server whoever limits the rate.
run_wrk() {
    local name=$1 seconds=$2 url=$3 line cpu t0="" t1
    shift 3
    [ -z "${WATCH_PID:-}" ] || t0=$(proc_ticks "$WATCH_PID")
    taskset -c 1 /usr/bin/time -f 'WRKCPU %U %S %e' -o "$TMP/$name.time" \
        wrk "$@" -d"${seconds}s" --latency "$url" > "$TMP/$name.wrk" 2>&1 ||
        die "wrk failed: $(cat "$TMP/$name.wrk")"
    line=$(grep -m1 '^BENCH ' "$TMP/$name.wrk") || die "no result from wrk: $(cat "$TMP/$name.wrk")"
    cpu=$(awk '/^WRKCPU/ { printf "%.0f", ($2 + $3) * 100 / $4 }' "$TMP/$name.time")
    if [ -n "$t0" ]; then
        t1=$(proc_ticks "$WATCH_PID")
        cpu="$cpu srv_us=$(awk -v d="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$(field "$line" requests)" \
            'BEGIN { printf "%.2f", (n > 0 ? d / hz * 1e6 / n : 0) }')"
    fi
    echo "$line wrk_cpu=$cpu"
}

# combine LINE...: the BENCH lines of several runs as one: runs=N, every field the median of
# the runs (the mean of the middle two for an even count), with NAME_min and NAME_max; the
# counters (requests, errors, socket, status, exhausted, and vote-signin's handed, signins,
# ballots, refused, lost, doubled) summed over the runs.
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
            if (k ~ /^(requests|errors|socket|status|exhausted|handed|signins|ballots|refused|lost|doubled)$/) {
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
    function f(x,   s, i) { if (n != "rps" && n != "reval_per_s") return sprintf("%.2f", x)
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
        echo "Client core SATURATED (wrk above 90 % of its core) in: ${bad[*]}. Those rows' rates are bounded by the client, not the server: their server CPU per request (meetoa's process, nginx's worker) is the measure, and a ratio to nginx involving them is taken by it."
    fi
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# ---- the scenarios ----

# scenario_info_and_baseline: info, info-expiring and verify (whichever are wanted) against the
# nginx baselines, their runs alternating. Needs EMU_PORT and SRV_PORT (meetoa, cache-seconds 5);
# sets R_BASE, R_INFO, R_EXP (with reval_per_s: revalidations a second), R_VBASE, R_VERIFY.
scenario_info_and_baseline() {
    local info_port=$SRV_PORT info_pid=$SRV_PID exp_port="" exp_mport="" exp_pid="" ngx_pid
    log "info: logging in $INFO_USERS users"
    taskset -c 1 node bench/prepare.mjs logins --emu "http://127.0.0.1:$EMU_PORT" \
        --server "http://127.0.0.1:$SRV_PORT" --appid "$APPID" --users "$INFO_USERS" --prefix info- \
        --out "$TMP/info.tokens" > /dev/null
    if want verify; then
        # auth_request guards a service for members: every info user becomes one (an active
        # member named 成员<id>), written with SQL; the membership cache starts empty.
        sqlite3 -cmd '.timeout 5000' "$TMP/meetoa.db" "INSERT OR IGNORE INTO oa_member (user_id, name, department,
            status, role, requested_at, joined_at, updated_at) SELECT id, '成员' || id, '部门', 1, 0,
            strftime('%s', 'now'), strftime('%s', 'now'), strftime('%s', 'now') FROM wx_user" ||
            die "verify: members not written"
    fi
    curl -s "http://127.0.0.1:$SRV_PORT/wx/auth/info" -H "X-OA-Token: $(head -1 "$TMP/info.tokens")" > "$TMP/info.body"
    grep -q '^{"errno":0' "$TMP/info.body" || die "info answered $(cat "$TMP/info.body")"
    INFO_BODY_BYTES=$(wc -c < "$TMP/info.body")
    export BENCH_TOKENS=$TMP/info.tokens
    NGINX_VERIFY=""
    if want verify; then
        # nginx's /wx/auth/verify answers what meetoa's does for the first user: 200, no body,
        # the same headers (names in lower case, as h2o writes them) and values of the same width.
        curl -s -D "$TMP/verify.head" -o "$TMP/verify.body" "http://127.0.0.1:$SRV_PORT/wx/auth/verify" \
            -H "X-OA-Token: $(head -1 "$TMP/info.tokens")"
        if [ -s "$TMP/verify.body" ] || ! head -1 "$TMP/verify.head" | grep -q ' 200 '; then
            die "verify answered $(cat "$TMP/verify.head" "$TMP/verify.body")"
        fi
        NGINX_VERIFY=$(tr -d '\r' < "$TMP/verify.head" | awk -F': ' 'tolower($1) ~ /^(x-oa-|cache-control$)/ {
            printf "add_header %s \"%s\";\n", tolower($1), $2 }')
        verify_check verify-before "$info_port"
    fi
    log "baseline: nginx with the same $INFO_BODY_BYTES-byte body${NGINX_VERIFY:+, and the answer of /wx/auth/verify}"
    start_nginx "$TMP/info.body"
    curl -s "http://127.0.0.1:$NGINX_PORT/" > "$TMP/nginx.body"
    cmp -s "$TMP/nginx.body" "$TMP/info.body" ||
        die "nginx answers $(wc -c < "$TMP/nginx.body") bytes, not the $INFO_BODY_BYTES of info: $(cat "$TMP/nginx.body")"
    if want verify; then
        nginx_verify_check vbaseline-before
        VERIFY_HEAD_BYTES=$(wc -c < "$TMP/verify.head")
        VBASE_HEAD_BYTES=$(wc -c < "$TMP/vbaseline-before.head")
    fi
    if want info-expiring; then
        # A second meetoa on the same database, cache-seconds EXP_CACHE_SECONDS: every cached
        # session is read again from SQLite that often while it is used. Its management listener
        # counts the revalidations (meetoa_session_cache_lookups_total{result="revalidate"}).
        exp_mport=$(free_port)
        write_config "$TMP/expiring.yml" "sqlite:$TMP/meetoa.db" "$EXP_CACHE_SECONDS"
        echo "management: {server: {port: $exp_mport, address: 127.0.0.1}}" >> "$TMP/expiring.yml"
        start_meetoa meetoa-expiring "$TMP/expiring.yml"
        exp_port=$SRV_PORT exp_pid=$SRV_PID
        SRV_PORT=$info_port SRV_PID=$info_pid
    fi
    local base_url=http://127.0.0.1:$NGINX_PORT
    ngx_pid=$(pgrep -P "$NGINX_PID" | head -1) || die "no nginx worker"
    want info || want info-expiring && run_wrk baseline-warm 2 "$base_url" -t1 -c64 -s bench/lib/info.lua > /dev/null
    want info && run_wrk info-warm 2 "http://127.0.0.1:$info_port" -t1 -c64 -s bench/lib/info.lua > /dev/null
    [ -z "$exp_port" ] || run_wrk exp-warm 2 "http://127.0.0.1:$exp_port" -t1 -c64 -s bench/lib/info.lua > /dev/null
    if want verify; then
        BENCH_PATH=/wx/auth/verify run_wrk vbaseline-warm 2 "$base_url" -t1 -c64 -s bench/lib/info.lua > /dev/null
        BENCH_PATH=/wx/auth/verify run_wrk verify-warm 2 "http://127.0.0.1:$info_port" -t1 -c64 -s bench/lib/info.lua > /dev/null
    fi
    # The runs alternate (baseline 1, info 1, info-expiring 1, verify baseline 1, verify 1,
    # baseline 2, ...): every side sees the same noise. The others idle during each run.
    local i r r0 r1 base=() info=() exp=() vbase=() verify=()
    want info || want info-expiring && nginx_check baseline-before
    want info && info_check info-before "$TMP/info.tokens" "$info_port"
    [ -z "$exp_port" ] || info_check exp-before "$TMP/info.tokens" "$exp_port"
    for i in $(seq 1 "$RUNS"); do
        if want info || want info-expiring; then
            log "baseline: run $i of $RUNS, $DURATION s"
            base+=("$(WATCH_PID=$ngx_pid run_wrk "baseline-$i" "$DURATION" "$base_url" -t1 -c64 -s bench/lib/info.lua)")
            nginx_check "baseline-$i-after"
        fi
        if want info; then
            log "info: run $i of $RUNS, $DURATION s"
            info+=("$(WATCH_PID=$info_pid run_wrk "info-$i" "$DURATION" "http://127.0.0.1:$info_port" -t1 -c64 -s bench/lib/info.lua)")
            info_check "info-$i-after" "$TMP/info.tokens" "$info_port"
        fi
        if [ -n "$exp_port" ]; then
            log "info-expiring: run $i of $RUNS, $DURATION s, cache-seconds $EXP_CACHE_SECONDS"
            r0=$(metric_sum "$exp_mport" 'meetoa_session_cache_lookups_total{result="revalidate"}')
            r=$(WATCH_PID=$exp_pid run_wrk "exp-$i" "$DURATION" "http://127.0.0.1:$exp_port" -t1 -c64 -s bench/lib/info.lua)
            r1=$(metric_sum "$exp_mport" 'meetoa_session_cache_lookups_total{result="revalidate"}')
            exp+=("$r reval_per_s=$(awk -v a="$r0" -v b="$r1" -v s="$(field "$r" seconds)" 'BEGIN { printf "%.0f", (b - a) / s }')")
            info_check "exp-$i-after" "$TMP/info.tokens" "$exp_port"
        fi
        if want verify; then
            log "verify baseline: run $i of $RUNS, $DURATION s"
            vbase+=("$(BENCH_PATH=/wx/auth/verify WATCH_PID=$ngx_pid run_wrk "vbaseline-$i" "$DURATION" "$base_url" -t1 -c64 -s bench/lib/info.lua)")
            nginx_verify_check "vbaseline-$i-after"
            log "verify: run $i of $RUNS, $DURATION s"
            verify+=("$(BENCH_PATH=/wx/auth/verify WATCH_PID=$info_pid run_wrk "verify-$i" "$DURATION" "http://127.0.0.1:$info_port" -t1 -c64 -s bench/lib/info.lua)")
            verify_check "verify-$i-after" "$info_port"
        fi
    done
    stop_pid "$NGINX_PID"
    [ -z "$exp_pid" ] || stop_pid "$exp_pid"
    if [ ${#base[@]} -gt 0 ]; then R_BASE=$(combine "${base[@]}") && log "baseline: $R_BASE"; fi
    if [ ${#info[@]} -gt 0 ]; then R_INFO=$(combine "${info[@]}") && log "info: $R_INFO"; fi
    if [ ${#exp[@]} -gt 0 ]; then R_EXP=$(combine "${exp[@]}") && log "info-expiring: $R_EXP"; fi
    if [ ${#vbase[@]} -gt 0 ]; then R_VBASE=$(combine "${vbase[@]}") && log "verify baseline: $R_VBASE"; fi
    if [ ${#verify[@]} -gt 0 ]; then R_VERIFY=$(combine "${verify[@]}") && log "verify: $R_VERIFY"; fi
}

# metric_sum PORT SERIES: the value of one series (name and labels, exactly as written) of
# meetoa's /metrics on the management PORT, 0 when it was never counted.
metric_sum() {
    curl -sf "http://127.0.0.1:$1/metrics" | awk -v s="$2" 'index($0, s " ") == 1 { v += $NF } END { printf "%.0f\n", v }'
}

# nginx_check NAME: nginx still answers info's very bytes.
nginx_check() {
    curl -s "http://127.0.0.1:$NGINX_PORT/" > "$TMP/$1.body"
    cmp -s "$TMP/$1.body" "$TMP/info.body" || die "$1: nginx answered $(head -c 300 "$TMP/$1.body")"
}

# nginx_verify_check NAME: nginx's /wx/auth/verify answers meetoa's status, no body, and the
# same header names with values of the same length (the head kept in $TMP/NAME.head).
nginx_verify_check() {
    curl -s -D "$TMP/$1.head" -o "$TMP/$1.body" "http://127.0.0.1:$NGINX_PORT/wx/auth/verify"
    if [ -s "$TMP/$1.body" ] || [ "$(head_shape < "$TMP/$1.head")" != "$(head_shape < "$TMP/verify.head")" ]; then
        die "$1: nginx's verify answer differs from meetoa's: $(cat "$TMP/$1.head") against $(cat "$TMP/verify.head")"
    fi
}

# head_shape: an HTTP answer's head on stdin as its status and each header's name (lower case)
# with the length of its value, sorted; Date and Server left out.
head_shape() {
    tr -d '\r' | awk -F': ' 'NR == 1 { print $1, $2; next }
        NF > 1 && tolower($1) !~ /^(date|server)$/ { print tolower($1), length($2) }' | sort
}

# info_check NAME TOKENS [PORT]: a sample of 200 tokens' /wx/auth/info answers checked (prepare.mjs info).
info_check() {
    taskset -c 1 node bench/prepare.mjs info --server "http://127.0.0.1:${3:-$SRV_PORT}" \
        --tokens "$2" --sample 200 > "$TMP/$1.check" || die "$1: wrong answers: $(cat "$TMP/$1.check")"
}

# verify_check NAME PORT: a sample of 200 info tokens' /wx/auth/verify answers checked (200, no
# body, the user id and member headers) and an unknown token's (401) (prepare.mjs verify).
verify_check() {
    taskset -c 1 node bench/prepare.mjs verify --server "http://127.0.0.1:$2" \
        --tokens "$TMP/info.tokens" --sample 200 > "$TMP/$1.check" || die "$1: wrong answers: $(cat "$TMP/$1.check")"
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
        r=$(BENCH_CODES=$TMP/$name-$i.codes BENCH_THREADS=1 WATCH_PID=$SRV_PID run_wrk "$name-$i" "$DURATION" "http://127.0.0.1:$SRV_PORT" \
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
    MEM_PARTS=$(awk '/^(RssAnon|RssFile|RssShmem):/ { printf "%s%s %.1f MiB", n++ ? ", " : "", $1, $2 / 1024 }' \
        "/proc/$SRV_PID/status")
    drive "$MEM_USED" $((MEM_USED + extra)) > /dev/null
    MEM_RSS_EXTRA=$(rss_kib "$SRV_PID")
    MEM_ERRORS=0
    MEM_EXTRA=$extra
    MEM_HALF=$half
    stop_pid "$SRV_PID"
    rm -f "$db" "$db-wal" "$db-shm"
}

# mariadb_durable: the private mariadbd at MariaDB's safe default, every commit flushed to its
# log (innodb_flush_log_at_trx_commit = 1; scripts/mariadb.sh starts the tests' server with 2):
# the bench does not trade durability for speed.
mariadb_durable() {
    mariadb --no-defaults -S "$MARIADB_DIR/sock" -u root -e 'SET GLOBAL innodb_flush_log_at_trx_commit = 1' ||
        die "innodb_flush_log_at_trx_commit not set"
    [ "$(mariadb --no-defaults -S "$MARIADB_DIR/sock" -u root -N -e 'SELECT @@innodb_flush_log_at_trx_commit')" = 1 ] ||
        die "innodb_flush_log_at_trx_commit is not 1"
}

scenario_mariadb() {
    log "login on MariaDB: starting a private mariadbd"
    local envout url
    envout=$(scripts/mariadb.sh start) || die "mariadbd did not start"
    url=$(sed -n 's/^MEETOA_TEST_MYSQL_URL=//p' <<< "$envout")
    MARIADB_DIR=$(sed -n 's/^MEETOA_TEST_MYSQL_DIR=//p' <<< "$envout")
    taskset -a -c -p 0 "$(cat "$MARIADB_DIR/server.pid")" > /dev/null
    mariadb_durable
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

# ml_check NAME [N]: a sample of N (500) members' first pages checked (errno 0, 20 items, soonest first).
ml_check() {
    taskset -c 1 node bench/prepare.mjs meetings --server "http://127.0.0.1:$SRV_PORT" \
        --tokens "$TMP/ml.tokens" --sample "${2:-500}" > "$TMP/$1.check" || die "$1: wrong answers: $(cat "$TMP/$1.check")"
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
        mariadb_durable
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
    # "Page cache warm": every member's first page asked (and checked) once before the runs, so
    # that the rows do not measure the first building of pages (on MariaDB that alone takes
    # longer than a run).
    ml_check "ml-$backend-warmup" "$ML_USERS"
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
        # shellcheck disable=SC2034 # read by report_meeting_list through ${!name}
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

# ---- vote-signin: sign-ins and ballots at meetings in progress ----

# vs_counts ROUND FROM TO: the database's counts of the round (votes_counts_sql), one line.
vs_counts() {
    votes_counts_sql "$@" | sqlite3 -cmd '.timeout 10000' "$TMP/vs.db" || die "vote-signin: counts not read"
}

# vs_answered MPORT: "signin_ok signin_other ballot_ok ballot_other": meetoa's answers so far on
# the two routes by errno (0 or any other), from /metrics.
vs_answered() {
    curl -sf "http://127.0.0.1:$1/metrics" | awk '
        /^meetoa_http_requests_total\{route="\/wx\/meeting\/checkin",/ { if ($0 ~ /errno="0"/) a += $NF; else b += $NF }
        /^meetoa_http_requests_total\{route="\/wx\/vote\/cast",/ { if ($0 ~ /errno="0"/) c += $NF; else d += $NF }
        END { printf "%.0f %.0f %.0f %.0f\n", a, b, c, d }'
}

# vs_round ROUND: the round's data (fresh meetings, attendees, open questions, operations) and
# its operations file: $TMP/vs-ROUND.check (the first VS_CHECKS operations, for the check before
# the run) and $TMP/vs-ROUND.ops (the rest, wrk's), each line TOKEN<TAB>PATH<TAB>BODY.
vs_round() {
    votes_round_sql "$1" "$VS_USERS" "$VS_MEETINGS" "$VS_VOTES" "$(date +%s)" |
        sqlite3 -bail -cmd '.timeout 10000' "$TMP/vs.db" > /dev/null || die "vote-signin: round $1 not written"
    votes_ops_sql "$1" | sqlite3 -separator $'\t' "$TMP/vs.db" |
        awk -F'\t' -v n="$VS_CHECKS" -v c="$TMP/vs-$1.check" -v o="$TMP/vs-$1.ops" '
            NR == FNR { tok[FNR] = $0; next }
            { line = tok[$2] "\t" $3 "\t" $4; if ($1 < n) print line > c; else print line > o }' \
            "$TMP/vs.tokens" - || die "vote-signin: operations of round $1 not written"
}

# vs_run ROUND SECONDS: one measured run on a fresh round; prints its BENCH line with the
# database's findings: signins, ballots (accepted by meetoa: errno 0, from /metrics), lost and
# doubled (see report_vote_signin), refused (answers with another errno) and wrk_cpu.
vs_run() {
    local r=$1 seconds=$2 line after handed c0 c1 a0 a1 t0 t1 ok_s ok_b refused lost doubled
    vs_round "$r"
    # Before: fresh operations answer errno 0 (already false, voted true), and again as repeats
    # (already true, 813); the database holds each once.
    taskset -c 1 node bench/prepare.mjs votes --server "http://127.0.0.1:$SRV_PORT" --ops "$TMP/vs-$r.check" \
        --from 0 --to "$VS_CHECKS" --expect fresh > "$TMP/vs-$r-before.check" ||
        die "vote-signin: round $r: wrong answers before: $(cat "$TMP/vs-$r-before.check")"
    taskset -c 1 node bench/prepare.mjs votes --server "http://127.0.0.1:$SRV_PORT" --ops "$TMP/vs-$r.check" \
        --from 0 --to "$VS_CHECKS" --expect repeat >> "$TMP/vs-$r-before.check" ||
        die "vote-signin: round $r: wrong repeated answers before: $(cat "$TMP/vs-$r-before.check")"
    c0=$(vs_counts "$r" 0 0)
    [ $(($(field " $c0" signins) + $(field " $c0" ballots))) = "$VS_CHECKS" ] ||
        die "vote-signin: round $r: $VS_CHECKS operations checked, the database holds $c0"
    a0=$(vs_answered "$VS_MPORT")
    t0=$(awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat")
    line=$(BENCH_OPS=$TMP/vs-$r.ops run_wrk "vs-$r" "$seconds" "http://127.0.0.1:$SRV_PORT" -t1 -c"$VS_CONNS" \
        -s bench/lib/vote_signin.lua)
    t1=$(awk '{ print $14 + $15 }' "/proc/$SRV_PID/stat")
    # meetoa's CPU over the run (all its threads), % of one core: low with a low rate means waiting
    line="$line srv_cpu=$(awk -v d="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v s="$(field "$line" seconds)" \
        'BEGIN { printf "%.0f", d / hz * 100 / s }')"
    [ "$(field "$line" exhausted)" = 0 ] || die "vote-signin: round $r ran out of operations (raise BENCH_VS_RATE): $line"
    handed=$(field "$line" handed)
    # Requests still in flight when wrk stopped are answered after it: wait until the counts stand.
    a1=$(vs_answered "$VS_MPORT")
    for _ in $(seq 1 50); do
        sleep 0.2
        after=$(vs_answered "$VS_MPORT")
        [ "$after" = "$a1" ] && break
        a1=$after
    done
    c1=$(vs_counts "$r" "$VS_CHECKS" $((VS_CHECKS + handed)))
    read -r ok_s ok_b refused <<< "$(awk -v a="$a0" -v b="$a1" 'BEGIN { split(a, x); split(b, y)
        printf "%d %d %d", y[1] - x[1], y[3] - x[3], y[2] - x[2] + y[4] - x[4] }')"
    # lost: accepted (errno 0) but not in the database; doubled: in the database more often than
    # accepted, a counter that disagrees with the ballots, or an operation never handed out done.
    read -r lost doubled <<< "$(awk -v s="$ok_s" -v b="$ok_b" -v c0="$c0" -v c1="$c1" '
        function f(line, k,   i, n, kv) { n = split(line, kv, " "); for (i = 1; i <= n; i++) if (index(kv[i], k "=") == 1) return substr(kv[i], length(k) + 2) + 0 }
        function pos(x) { return x > 0 ? x : 0 }
        function abs(x) { return x < 0 ? -x : x }
        BEGIN {
            ds = f(c1, "signins") - f(c0, "signins"); db = f(c1, "ballots") - f(c0, "ballots")
            lost = pos(s - ds) + pos(b - db)
            doubled = pos(ds - s) + pos(db - b) + f(c1, "beyond")
            doubled += abs(f(c1, "choices") - f(c1, "ballots")) + abs(f(c1, "option_votes") - f(c1, "ballots"))
            doubled += abs(f(c1, "vote_ballots") - f(c1, "ballots"))
            doubled += abs(f(c1, "op_signins") - ds) + abs(f(c1, "op_ballots") - db)
            print lost, doubled }')"
    # After: a sample of the operations surely answered (all but the last VS_CONNS handed out)
    # repeated: already signed in, 813; the database unchanged by them.
    if [ "$handed" -gt $((VS_CONNS + 1)) ]; then
        taskset -c 1 node bench/prepare.mjs votes --server "http://127.0.0.1:$SRV_PORT" --ops "$TMP/vs-$r.ops" \
            --from 0 --to $((handed - VS_CONNS)) --sample 200 --expect repeat > "$TMP/vs-$r-after.check" ||
            die "vote-signin: round $r: wrong repeated answers after: $(cat "$TMP/vs-$r-after.check"); $line; accepted $ok_s sign-ins, $ok_b ballots, $refused refused; database: $c1; meetoa: $(tail -3 "$TMP/meetoa-vs.log")"
        [ "$(vs_counts "$r" "$VS_CHECKS" $((VS_CHECKS + handed)))" = "$c1" ] ||
            die "vote-signin: round $r: repeated operations changed the database: $c1 before"
    fi
    log "vote-signin: round $r: $line; accepted $ok_s sign-ins, $ok_b ballots, $refused refused; database: $c1"
    rm -f "$TMP/vs-$r.ops" "$TMP/vs-$r.check"
    echo "$line signins=$ok_s ballots=$ok_b refused=$refused lost=$lost doubled=$doubled"
}

# scenario_vote_signin: VS_USERS members (10,000) on VS_MEETINGS meetings in progress (200) on
# SQLite, each run on a fresh round of them; sets R_VS.
scenario_vote_signin() {
    local i now runs=()
    VS_MPORT=$(free_port)
    write_config "$TMP/vs.yml" "sqlite:$TMP/vs.db"
    echo "management: {server: {port: $VS_MPORT, address: 127.0.0.1}}" >> "$TMP/vs.yml"
    taskset -c 0 "$BUILD/meetoa" migrate --config "$TMP/vs.yml" > /dev/null 2>&1 || die "vote-signin: migrate failed"
    now=$(date +%s)
    log "vote-signin: $VS_USERS members, their tokens minted"
    votes_people_sql "$VS_USERS" "$now" | sqlite3 -bail "$TMP/vs.db" > /dev/null || die "vote-signin: members not written"
    node bench/prepare.mjs mint --data-key "$DATA_KEY" --count "$VS_USERS" --users "$VS_USERS" \
        --out-tokens "$TMP/vs.tokens" --out-sql "$TMP/vs.sql" > /dev/null
    sqlite3 -bail "$TMP/vs.db" < "$TMP/vs.sql" > /dev/null || die "vote-signin: sessions not written"
    start_meetoa meetoa-vs "$TMP/vs.yml"
    taskset -c 1 node bench/prepare.mjs drive --server "http://127.0.0.1:$SRV_PORT" --tokens "$TMP/vs.tokens" \
        --from 0 --to "$VS_USERS" > /dev/null || die "vote-signin: tokens refused"
    log "vote-signin: warm-up round, 2 s"
    VS_VOTES=$(((VS_RATE * 2 + VS_USERS - 1) / VS_USERS))
    vs_run 0 2 > /dev/null
    VS_VOTES=$(((VS_RATE * DURATION + VS_USERS - 1) / VS_USERS))
    VS_OPS=$((VS_USERS * (1 + VS_VOTES)))
    for i in $(seq 1 "$RUNS"); do
        log "vote-signin: run $i of $RUNS: $VS_MEETINGS meetings, $VS_USERS attendees, $VS_VOTES questions each, $VS_OPS operations, $DURATION s"
        runs+=("$(vs_run "$i" "$DURATION")")
    done
    stop_pid "$SRV_PID"
    R_VS=$(combine "${runs[@]}")
    log "vote-signin: $R_VS"
}

# ---- the report ----

# verdict OK_EXPR: "met" or "MISSED" from an awk condition on the given variables.
verdict() { awk "BEGIN { exit !($1) }" && echo met || echo MISSED; }

row() { # NAME BENCH_LINE BOUND_TEXT RATIO TARGET VERDICT [ERRORS: wrk's when not given]
    local srv="—"
    [ -z "$(field "$2" srv_us)" ] || srv=$(mm "$2" srv_us)
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(mm "$2" rps)" "$(mm "$2" p50_ms)" \
        "$(mm "$2" p99_ms)" "${7:-$(field "$2" errors)}" "$(cpu_cell "$2")" "$srv" "$3" "$4" "$5" "$6"
}

# vs_nginx LINE BASE_LINE: the ratio to the nginx baseline that the verdict takes: of the request
# rates, or, when wrk saturated its core in a run of either row (the rates then are the client's),
# of the server CPU per request (nginx's µs / meetoa's: the rate one server core would give each).
vs_nginx() {
    if saturated "$1" || saturated "$2"; then
        awk "BEGIN { printf \"%.2f\", $(field "$2" srv_us) / $(field "$1" srv_us) }"
    else
        awk "BEGIN { printf \"%.2f\", $(field "$1" rps) / $(field "$2" rps) }"
    fi
}

# ratio_cell LINE BASE_LINE: both ratios to the baseline, the one the verdict takes first.
ratio_cell() {
    local rate cpu
    rate=$(awk "BEGIN { printf \"%.2f\", $(field "$1" rps) / $(field "$2" rps) }")
    cpu=$(awk "BEGIN { printf \"%.2f\", $(field "$2" srv_us) / $(field "$1" srv_us) }")
    if saturated "$1" || saturated "$2"; then echo "$cpu by CPU/request (by rate $rate: client saturated)"; else echo "$rate (by CPU/request $cpu)"; fi
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
        local what="$b, page cache warm" target="≥ 10,000 pages/s, 0 errors"
        v=$(verdict "$(field "$r" rps) >= 10000 && $(field "$r" errors) == 0")
        if [ "$b" = sqlite ]; then
            v=$(verdict "$(field "$r" rps) >= 20000 && $(field "$r" errors) == 0")
            target="≥ 20,000 pages/s, 0 errors"
        elif [ "$b" = sqlite_cold ]; then
            what="sqlite, no page cache (list-cache-bytes 0)"
            target="beside the warm row"
            v="stated"
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
    if [ -n "${R_BASE:-}${R_VBASE:-}${R_LOGIN:-}${R_LOGIN_MARIADB:-}${R_VS:-}${MEM_RSS:-}$CG" ]; then
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
    local base vbase ratio v notes=() lo
    [ -n "${R_BASE:-}${R_VBASE:-}${R_LOGIN:-}${R_LOGIN_MARIADB:-}${R_VS:-}" ] || { report_memory_callgrind; return 0; }
    echo "| scenario | requests/s | p50 ms | p99 ms | errors | wrk CPU | server CPU µs/request | bound | ratio | target | verdict |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---|"
    if [ -n "${R_BASE:-}" ]; then
        base=$(field "$R_BASE" rps)
        row "baseline: nginx return 200, ${INFO_BODY_BYTES} B body" "$R_BASE" "one core" "1.00" "—" "—"
        notes+=("baseline=$R_BASE")
    fi
    # Each ratio is of the medians, both measured in this run, their runs alternating.
    if [ -n "${R_INFO:-}" ]; then
        ratio=$(vs_nginx "$R_INFO" "$R_BASE")
        v=$(verdict "$ratio >= 0.9 && $(field "$R_INFO" p99_ms) <= 2 && $(field "$R_INFO" errors) == 0")
        row "info: 10,000 users, random token, SQLite, cache warm" "$R_INFO" "baseline $(mm "$R_BASE" rps | cut -d' ' -f1)/s" \
            "$(ratio_cell "$R_INFO" "$R_BASE")" "≥ 0.9 × nginx, p99 ≤ 2 ms, 0 errors" "$v"
        notes+=("info=$R_INFO")
    fi
    if [ -n "${R_EXP:-}" ]; then
        ratio=$(vs_nginx "$R_EXP" "$R_BASE")
        v=$(verdict "$ratio >= 0.8 && $(field "$R_EXP" errors) == 0")
        row "info, cache-seconds $EXP_CACHE_SECONDS expiring (revalidations $(mm "$R_EXP" reval_per_s)/s measured)" \
            "$R_EXP" "baseline $(mm "$R_BASE" rps | cut -d' ' -f1)/s" "$(ratio_cell "$R_EXP" "$R_BASE")" "≥ 0.8 × nginx, 0 errors" "$v"
        notes+=("info expiring=$R_EXP")
    fi
    if [ -n "${R_VBASE:-}" ]; then
        vbase=$(field "$R_VBASE" rps)
        row "baseline: nginx, verify's answer (200, no body, its headers: $VBASE_HEAD_BYTES B head)" "$R_VBASE" "one core" \
            "1.00" "—" "—"
        ratio=$(vs_nginx "$R_VERIFY" "$R_VBASE")
        v=$(verdict "$ratio >= 0.9 && $(field "$R_VERIFY" errors) == 0")
        row "verify (auth_request): 10,000 members, random token, SQLite ($VERIFY_HEAD_BYTES B head)" "$R_VERIFY" \
            "baseline $(mm "$R_VBASE" rps | cut -d' ' -f1)/s" "$(ratio_cell "$R_VERIFY" "$R_VBASE")" "≥ 0.9 × nginx, 0 errors" "$v"
        notes+=("verify baseline=$R_VBASE" "verify=$R_VERIFY")
    fi
    if [ -n "${R_LOGIN:-}" ]; then
        lo=$(field "$R_LOGIN" rps)
        v=$(verdict "$lo >= 0.9 * 5120 && $(field "$R_LOGIN" p99_ms) <= 80 && $(field "$R_LOGIN" errors) == 0")
        row "login: SQLite, wxemu 50 ms, c256" "$R_LOGIN" "ideal 5,120/s" "$(awk "BEGIN { printf \"%.2f\", $lo / 5120 }")" \
            "≥ 0.9 × 5,120/s, p99 ≤ 80 ms, 0 errors" "$v"
        notes+=("login SQLite=$R_LOGIN")
    fi
    if [ -n "${R_LOGIN_MARIADB:-}" ]; then
        lo=$(field "$R_LOGIN_MARIADB" rps)
        v=$(verdict "$lo >= 0.8 * 5120 && $(field "$R_LOGIN_MARIADB" p99_ms) <= 150 && $(field "$R_LOGIN_MARIADB" errors) == 0")
        row "login: MariaDB, wxemu 50 ms, c256" "$R_LOGIN_MARIADB" "ideal 5,120/s" \
            "$(awk "BEGIN { printf \"%.2f\", $lo / 5120 }")" "≥ 0.8 × 5,120/s, p99 ≤ 150 ms, 0 errors" "$v"
        notes+=("login MariaDB=$R_LOGIN_MARIADB")
    fi
    if [ -n "${R_VS:-}" ]; then
        local errs
        errs=$(($(field "$R_VS" errors) + $(field "$R_VS" refused)))
        v=$(verdict "$(field "$R_VS" rps) >= 10000 && $errs == 0 && $(field "$R_VS" lost) == 0 && $(field "$R_VS" doubled) == 0")
        # errors: wrk's (socket, non-2xx) + answers with an errno other than 0 (meetoa's /metrics)
        row "vote + sign-in: 200 meetings in progress, 10,000 attendees, SQLite" "$R_VS" \
            "lost $(field "$R_VS" lost), doubled $(field "$R_VS" doubled)" "—" \
            "≥ 10,000/s, 0 lost or doubled, 0 errors" "$v" "$errs"
        notes+=("vote + sign-in=$R_VS")
    fi
    echo
    [ ${#notes[@]} -eq 0 ] || saturation_note "${notes[@]}"
    if [ -n "${R_EXP:-}" ]; then
        echo "Info expiring: a second meetoa on the same database with cache-seconds $EXP_CACHE_SECONDS: each of the 10,000 sessions in use is read again from SQLite (session and user) every $EXP_CACHE_SECONDS s, $((INFO_USERS / EXP_CACHE_SECONDS)) revalidations a second expected (10,000 users / cache-seconds); the row shows those counted by meetoa_session_cache_lookups_total{result=\"revalidate\"} during the runs."
    fi
    if [ -n "${R_VBASE:-}" ]; then
        echo "Verify: the info users made members (SQL) so that verify answers X-OA-User-Id, X-OA-Member-Role: member and X-OA-Member-Name; nginx's location = /wx/auth/verify answers 200 with no body and the same headers, values of the same width (checked before and after every run, as a sample of 200 of meetoa's answers and a 401 for an unknown token)."
    fi
    if [ -n "${R_VS:-}" ]; then
        echo "Vote + sign-in: requests/s counts both operations (POST /wx/meeting/checkin by the meeting's code, POST /wx/vote/cast on an open named single-choice question), c$VS_CONNS. Each run has a fresh round: 200 new meetings in progress (the earlier ones ended), the same 10,000 members as their attendees (50 each, everyone votes), $VS_VOTES open questions a meeting, so $VS_OPS distinct operations (each attendee's sign-in and ballots, shuffled; each sent at most once, enough for $VS_RATE/s). Accepted in all runs: $(field "$R_VS" signins) sign-ins and $(field "$R_VS" ballots) ballots (errno 0, by meetoa's /metrics); lost = accepted but not in the database, doubled = in the database beyond the accepted ones, plus any disagreement of oa_vote_choice rows, oa_vote_option.votes and oa_vote.ballots with the ballots, plus operations done that wrk never handed out (sqlite3 after every run). Errors: wrk's (socket, non-2xx) plus answers with another errno (/metrics). meetoa's CPU during the runs: $(mm "$R_VS" srv_cpu | sed 's/\.00//g') % of its core."
    fi
    report_memory_callgrind
}

# The memory and callgrind rows (no request rate), and the memory growth notes.
report_memory_callgrind() {
    local mem=${MEM_RSS:-} cgper="" v
    [ -z "$CG" ] || cgper=$(awk -F'|' '/^\| info, session cache hit/ { gsub(/ /, "", $5); print $5 }' <<< "$CG")
    [ -n "$mem$cgper" ] || return 0
    echo
    echo "| scenario | errors | bound | ratio | target | verdict |"
    echo "|---|---:|---|---:|---|---|"
    if [ -n "$mem" ]; then
        v=$(verdict "$MEM_RSS <= 131072 && $MEM_ERRORS == 0")
        printf '| %s | %s | %s | %s | %s | %s |\n' \
            "memory: RSS $(awk "BEGIN { printf \"%.1f\", $MEM_RSS / 1024 }") MiB, 1,000,000 stored, 100,000 used (one measurement)" \
            "$MEM_ERRORS" "128 MiB" "$(awk "BEGIN { printf \"%.2f\", $MEM_RSS / 131072 }")" "≤ 128 MiB" "$v"
    fi
    if [ -n "$cgper" ]; then
        v=$(verdict "$cgper <= 12000")
        printf '| %s | %s | %s | %s | %s | %s |\n' "cached info, callgrind: $cgper instructions a request (bench/callgrind.sh)" \
            "—" "12,000" "$(awk "BEGIN { printf \"%.2f\", $cgper / 12000 }")" "≤ 12,000 instructions a request" "$v"
    fi
    [ -n "$mem" ] || return 0
    echo
    awk -v r0="$MEM_RSS0" -v rh="$MEM_RSS_HALF" -v r="$MEM_RSS" -v rx="$MEM_RSS_EXTRA" -v h="$MEM_HALF" \
        -v x="$MEM_EXTRA" 'BEGIN {
        printf "Memory: RSS %.1f MiB at start, %.1f MiB after %d sessions used, %.1f MiB after %d, %.1f MiB after %d more sessions of users already cached.\n",
            r0 / 1024, rh / 1024, h, r / 1024, 2 * h, rx / 1024, x
        printf "Growth per extra cached session: %.0f bytes when its user is new to the cache (session + user entry), %.0f bytes when its user is already cached.\n",
            (r - rh) * 1024 / h, (rx - r) * 1024 / x }'
    echo "Resident at $MEM_USED sessions used, by kind (/proc/PID/status): $MEM_PARTS (RssFile: pages of files mapped, SQLite's mmap of the database included)."
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
    local mport scraper
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
    if want info || want info-expiring || want verify || want login-sqlite; then
        write_config "$TMP/sqlite.yml" "sqlite:$TMP/meetoa.db"
        start_meetoa meetoa "$TMP/sqlite.yml"
        if want info || want info-expiring || want verify; then scenario_info_and_baseline; fi
        if want login-sqlite; then scenario_login login; fi
        stop_pid "$SRV_PID"
    fi
    if want memory; then scenario_memory; fi
    if want login-mariadb && [ "$WITH_MARIADB" = 1 ]; then scenario_mariadb; fi
    if want vote-signin; then scenario_vote_signin; fi
    if want metrics; then scenario_metrics; fi
    if want meeting-list; then
        scenario_meeting_list sqlite
        if [ "$WITH_MARIADB" = 1 ]; then scenario_meeting_list mariadb; fi
    fi

    if [ "$WITH_CALLGRIND" = 1 ]; then
        log "callgrind: instructions per request (slow: the server runs under valgrind)"
        CG=$(bench/callgrind.sh "$BUILD" "$TMP/callgrind") || die "callgrind failed"
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
        echo "meetoa \`threads: 1\`, pool-size 4, cache-seconds 5 ($EXP_CACHE_SECONDS for info expiring), Release build; wrk -t1 -c64 (baselines, info, verify, meeting list, vote + sign-in), -t1 -c$LOGIN_CONNS (login);"
        echo "each wrk row: the median of $RUNS runs (min–max in brackets), requests pre-formatted in init(), no per-answer Lua, answers checked before and after every run; wrk CPU = user + sys over wall time."
        echo "Durability as in production: SQLite in WAL with synchronous=NORMAL, MariaDB with innodb_flush_log_at_trx_commit = 1 (its safe default; a commit is on disk when answered)."
        echo
        echo "$table"
        if [ -n "$CG" ]; then
            echo
            echo "$CG"
        fi
        echo
        echo "Run time: $((SECONDS - started)) s."
    } > "$TMP/section.md"
    cat "$TMP/section.md"
    cat "$TMP/section.md" >> "$RESULTS"
    log "appended to $RESULTS ($((SECONDS - started)) s)"
}

main "$@"

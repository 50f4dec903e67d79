#!/usr/bin/env bash
# bench/callgrind.sh BUILD OUTDIR — CPU cost per request of the info and login paths, as
# instruction counts (valgrind --tool=callgrind), printed as a Markdown section on stdout.
#
# Why instructions: they do not depend on the machine's load or clock, so a change in the
# server shows as a change in these numbers. They count user-space instructions of every
# thread of meetoa (event loop, database workers, libcurl thread), not the kernel's work.
#
# How: meetoa runs under callgrind (wxemu, with no latency, and the node client do not).
# After a warm-up, `callgrind_control --zero` clears the counters, a fixed number of requests
# is sent, and `callgrind_control --dump` writes the counts of exactly that window; divided by
# the number of requests, that is the cost of one. Four windows:
#   login      N_LOGIN logins of new users (wx code exchange, upsert, session insert)
#   info hit   N_INFO info requests answered from the session cache (cache-seconds 3600)
#   verify     N_VERIFY GET /wx/auth/verify of the same users, made members with SQL as
#              bench/run.sh's verify scenario does, session and membership cached; each answer
#              checked (prepare.mjs verify), which adds one unknown token's 401 to the window
#   info db    N_DB info requests that each read the database (cache-seconds 0)
# Each window's top named functions (inclusive cost) come from callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:?usage: callgrind.sh BUILD OUTDIR}
OUT=${2:?usage: callgrind.sh BUILD OUTDIR}
N_LOGIN=${CALLGRIND_LOGINS:-1000}
N_INFO=${CALLGRIND_INFO:-5000}
N_DB=${CALLGRIND_DB:-2000}
N_VERIFY=${CALLGRIND_VERIFY:-5000}
APPID=wxbench00000000001
TOP=${CALLGRIND_TOP:-25}

log() { echo "callgrind: $*" >&2; }
die() {
    log "$*"
    exit 1
}

. bench/lib/procs.sh
trap stop_all EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
SECRET=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
DATA_KEY=$(head -c 32 /dev/urandom | base64)

taskset -c 1 "$BUILD/wxemu" --host 127.0.0.1 --port 0 --port-file "$OUT/wxemu.port" --app "$APPID:$SECRET" \
    --log-level warn > "$OUT/wxemu.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    [ -s "$OUT/wxemu.port" ] && break
    sleep 0.05
done
EMU=http://127.0.0.1:$(cat "$OUT/wxemu.port")

# start NAME CACHE_SECONDS: meetoa under callgrind on core 0; sets PID and SRV.
start() {
    local name=$1 line=""
    cat > "$OUT/$name.yml" << YAML
server: {host: 127.0.0.1, port: 0, threads: 1}
logging: {level: info}
oa:
  wx: {app-id: $APPID, app-secret: $SECRET, api-base: "$EMU", timeout-ms: 30000}
  token: {cache-seconds: $2}
  datasource: {url: "sqlite:$OUT/meetoa.db"}
  security: {data-key: $DATA_KEY}
  # every request comes from 127.0.0.1 and a few users: rate limits off, the cost is measured
  rate-limit: {login-ip: 0, login-openid: 0, phone-ip: 0, phone-openid: 0, upload-ip: 0, upload-openid: 0}
YAML
    taskset -c 0 valgrind --tool=callgrind --compress-strings=no --compress-pos=no \
        --callgrind-out-file="$OUT/$name.out" "$BUILD/meetoa" serve --config "$OUT/$name.yml" \
        > "$OUT/$name.log" 2>&1 &
    PID=$!
    PIDS+=("$PID")
    PART_BASE=$name.out
    for _ in $(seq 1 600); do
        line=$(grep -m1 -o 'listening on http://127.0.0.1:[0-9]*' "$OUT/$name.log" || true)
        [ -n "$line" ] && break
        kill -0 "$PID" 2> /dev/null || break
        sleep 0.1
    done
    [ -n "$line" ] || die "meetoa under valgrind did not start: $(tail -5 "$OUT/$name.log")"
    SRV=http://127.0.0.1:${line##*:}
}

logins() { # PREFIX COUNT OUT
    taskset -c 1 node bench/prepare.mjs logins --emu "$EMU" --server "$SRV" --appid "$APPID" --users "$2" \
        --prefix "$1" --concurrency 16 --out "$3" > /dev/null
}
drive() { # TOKENS COUNT
    taskset -c 1 node bench/prepare.mjs drive --server "$SRV" --tokens "$1" --from 0 --to "$2" \
        --concurrency 16 > /dev/null || die "info requests were refused"
}

# window NAME REQUESTS COMMAND...: zero, run, dump; keeps the dump as $OUT/NAME.part and sets
# IR (instructions in the window) and PER (per request).
window() {
    local name=$1 n=$2 f
    shift 2
    callgrind_control --zero "$PID" > /dev/null 2>&1 || die "callgrind_control --zero failed"
    "$@"
    rm -f "$OUT/$PART_BASE".*
    callgrind_control --dump="$name" "$PID" > /dev/null 2>&1 || die "callgrind_control --dump failed"
    f=$(ls "$OUT/$PART_BASE".* 2> /dev/null | head -1)
    [ -n "$f" ] || die "no dump for $name"
    mv "$f" "$OUT/$name.part"
    IR=$(sed -n 's/^summary: //p' "$OUT/$name.part")
    PER=$((IR / n))
}

top() { # PART REQUESTS: the TOP named functions by inclusive cost, per request
    callgrind_annotate --inclusive=yes --threshold=100 "$OUT/$1.part" 2> /dev/null |
        awk -v n="$2" -v top="$TOP" '
            /file:function/ { on = 1; getline; next }
            !on || !/^ *[0-9,]+ \(/ { next }
            {
                ir = $1; gsub(/,/, "", ir)
                rest = $0; sub(/^ *[0-9,]+ \( */, "", rest)
                pct = rest; sub(/%.*/, "", pct)
                sub(/^[^)]*\) +/, "", rest)
                lib = rest; sub(/^.*\[/, "", lib); sub(/\].*$/, "", lib); sub(/^.*\//, "", lib)
                fn = rest; sub(/ \[.*$/, "", fn); sub(/^.*:/, "", fn)
                if (fn ~ /^0x/ || pct + 0 >= 99.5) next
                printf "%9.0f  %6.2f%%  %s (%s)\n", ir / n, pct, fn, lib
                if (++shown == top) exit
            }'
}

# Window 1 and 2: one server with a session cache that never needs the database again.
log "login and info (cache hits): meetoa under callgrind"
start hit 3600
logins warm- 100 "$OUT/warm.tokens"
window login "$N_LOGIN" logins cg- "$N_LOGIN" "$OUT/cg.tokens"
LOGIN_IR=$IR LOGIN_PER=$PER
for _ in $(seq 1 $((N_INFO / N_LOGIN + 1))); do cat "$OUT/cg.tokens"; done > "$OUT/repeat.tokens"
drive "$OUT/cg.tokens" "$N_LOGIN" # every session in the cache, connections open
window info_hit "$N_INFO" drive "$OUT/repeat.tokens" "$N_INFO"
HIT_IR=$IR HIT_PER=$PER

# Window: verify. The window's users become active members (as bench/run.sh's verify scenario
# makes them: SQL from another process); one pass fills verify's membership cache.
sqlite3 -cmd '.timeout 5000' "$OUT/meetoa.db" "INSERT OR IGNORE INTO oa_member (user_id, name, department,
    status, role, requested_at, joined_at, updated_at) SELECT id, '成员' || id, '部门', 1, 0,
    strftime('%s', 'now'), strftime('%s', 'now'), strftime('%s', 'now') FROM wx_user" ||
    die "verify: members not written"
verify() { # TOKENS COUNT: COUNT answers checked, and one unknown token's 401
    taskset -c 1 node bench/prepare.mjs verify --server "$SRV" --tokens "$1" --sample "$2" > /dev/null ||
        die "verify answers were wrong"
}
verify "$OUT/cg.tokens" "$N_LOGIN"
window verify $((N_VERIFY + 1)) verify "$OUT/repeat.tokens" "$N_VERIFY"
VERIFY_IR=$IR VERIFY_PER=$PER
stop_pid "$PID"

# Window 3: cache-seconds 0, every request reads its session and user from SQLite.
log "info (database read per request): meetoa under callgrind"
start db 0
drive "$OUT/cg.tokens" "$N_LOGIN" # every token once: its hash in the memo, as for a session in use
window info_db "$N_DB" drive "$OUT/repeat.tokens" "$N_DB"
DB_IR=$IR DB_PER=$PER
stop_pid "$PID"

cat << MD
### CPU cost per request (callgrind, instructions of all meetoa threads, user space)

| path | requests | instructions | per request |
|---|---:|---:|---:|
| login (code exchange over HTTP, upsert + session insert on SQLite) | $N_LOGIN | $LOGIN_IR | $LOGIN_PER |
| info, session cache hit | $N_INFO | $HIT_IR | $HIT_PER |
| verify (auth_request), session and membership cached (+ one unknown token's 401) | $((N_VERIFY + 1)) | $VERIFY_IR | $VERIFY_PER |
| info, session and user read from SQLite (cache-seconds 0) | $N_DB | $DB_IR | $DB_PER |

Where the instructions go: named functions by inclusive cost (the function and what it calls),
instructions per request and share of the window (the libraries have no debug symbols, so their
internal functions are left out; the thread-start frames at 100 % are skipped).

Login:
\`\`\`
$(top login "$N_LOGIN")
\`\`\`
Info, cache hit:
\`\`\`
$(top info_hit "$N_INFO")
\`\`\`
Verify, cached:
\`\`\`
$(top verify $((N_VERIFY + 1)))
\`\`\`
Info, database read:
\`\`\`
$(top info_db "$N_DB")
\`\`\`
MD

#!/usr/bin/env bash
# A private, throw-away MariaDB server for MeetOA's tests.
#
#   scripts/mariadb.sh start        starts one, prints (on stdout, nothing else goes there)
#                                     MEETOA_TEST_MYSQL_URL=mysql://meetoa:PASSWORD@127.0.0.1:PORT/meetoa
#                                     MEETOA_TEST_MYSQL_DIR=DIR
#   scripts/mariadb.sh stop [DIR]   shuts the server of DIR down and removes DIR
#                                     (DIR defaults to $MEETOA_TEST_MYSQL_DIR)
#   scripts/mariadb.sh kill [DIR]   SIGKILLs the server (a crash), keeping its data
#   scripts/mariadb.sh resume [DIR] starts it again on the same data and port
# The user `meetoa` may create and use every database whose name starts with "meetoa", so
# tests can give each server process a fresh database.
#
# Typical use:  set -a; eval "$(scripts/mariadb.sh start)"; set +a; ...; scripts/mariadb.sh stop
#
# Why: the MySQL backend's tests need a real server, and the machine's own server (if any)
# must not be touched. So the server lives entirely in a fresh temporary folder DIR: its data
# (DIR/data), its unix socket (DIR/sock), its log (DIR/error.log) and its pid file. It listens
# on 127.0.0.1 only, on a free port, with --no-defaults (no /etc/mysql config is read). It has
# a database `meetoa` (utf8mb4) and a user `meetoa` with a random password, allowed from
# 127.0.0.1 and from the socket (localhost). Buffers are small so it starts in seconds.
# When mariadbd is missing and we are root, mariadb-server is installed from Debian with
# apt-get (Debian 12: MariaDB 10.11). Progress and errors go to stderr.
set -euo pipefail

log() { echo "mariadb.sh: $*" >&2; }
die() {
    log "$*"
    exit 1
}

find_server() {
    local p
    for p in "$(command -v mariadbd 2>/dev/null || true)" /usr/sbin/mariadbd /usr/libexec/mariadbd; do
        if [ -n "$p" ] && [ -x "$p" ]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

ensure_server() {
    if find_server > /dev/null && command -v mariadb-install-db > /dev/null; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "mariadbd is not installed; run as root (or: apt-get install mariadb-server)"
    log "installing mariadb-server with apt-get (once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends mariadb-server >&2
    find_server > /dev/null || die "mariadbd still missing after installing mariadb-server"
}

# A TCP port on 127.0.0.1 that nothing listens on right now (the server's bind confirms it).
pick_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free TCP port found"
}

# Waits until the server in $1 is ready, it died, or 60 s passed. Returns 0 when ready.
wait_ready() {
    local dir=$1 pid=$2
    for _ in $(seq 1 600); do
        if grep -q "ready for connections" "$dir/error.log" 2> /dev/null && [ -S "$dir/sock" ]; then
            return 0
        fi
        kill -0 "$pid" 2> /dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Starts mariadbd on the data of $2, port $3, in the background (extra options after).
launch() {
    local server=$1 dir=$2 port=$3 user_opt=()
    shift 3
    [ "$(id -u)" = 0 ] && user_opt=(--user=root)
    echo "$port" > "$dir/port"
    setsid "$server" --no-defaults "${user_opt[@]}" --datadir="$dir/data" --socket="$dir/sock" \
        --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
        --tmpdir="$dir" --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=32M --innodb-log-file-size=8M --innodb-log-buffer-size=1M \
        --innodb-use-native-aio=0 --innodb-flush-log-at-trx-commit=2 --key-buffer-size=1M \
        --max-connections=200 --skip-log-bin "$@" > /dev/null 2>&1 < /dev/null &
}

start() {
    ensure_server
    local server dir password port pid user_opt=()
    server=$(find_server)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/meetoa-mariadb.XXXXXX")
    touch "$dir/.meetoa-mariadb" # marks the folder as ours for `stop`
    [ "$(id -u)" = 0 ] && user_opt=(--user=root)
    password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')

    # --tmpdir as for the server below: two bootstraps at once (the CTest fixture and a unit
    # test's own server) otherwise share /tmp for their temporary tables, and one can fail.
    if ! mariadb-install-db --no-defaults --datadir="$dir/data" --tmpdir="$dir" --auth-root-authentication-method=normal \
        --skip-test-db "${user_opt[@]}" > "$dir/install.log" 2>&1; then
        cat "$dir/install.log" >&2
        rm -rf "$dir"
        die "mariadb-install-db failed"
    fi

    # Run once at start-up by the server itself, before it accepts connections.
    (
        umask 077
        cat > "$dir/init.sql" << SQL
CREATE DATABASE IF NOT EXISTS meetoa CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'meetoa'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER IF NOT EXISTS 'meetoa'@'localhost' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`meetoa%\`.* TO 'meetoa'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`meetoa%\`.* TO 'meetoa'@'localhost';
SQL
    )

    for attempt in 1 2 3 4 5; do
        port=$(pick_port)
        : > "$dir/error.log"
        launch "$server" "$dir" "$port" --init-file="$dir/init.sql"
        pid=$!
        echo "$pid" > "$dir/server.pid"
        if wait_ready "$dir" "$pid"; then
            rm -f "$dir/init.sql"
            log "mariadbd $pid ready on 127.0.0.1:$port and $dir/sock"
            echo "MEETOA_TEST_MYSQL_URL=mysql://meetoa:$password@127.0.0.1:$port/meetoa"
            echo "MEETOA_TEST_MYSQL_DIR=$dir"
            return 0
        fi
        kill -KILL "$pid" 2> /dev/null || true
        wait "$pid" 2> /dev/null || true
        if ! grep -q "Bind on TCP/IP port\|Address already in use" "$dir/error.log"; then
            break # not a port race: do not retry
        fi
        log "port $port was taken (attempt $attempt), trying another"
    done
    tail -n 30 "$dir/error.log" >&2 || true
    rm -rf "$dir"
    die "mariadbd did not start"
}

# Kills the server of DIR at once (SIGKILL: a crash), keeping its data for `resume`.
kill_server() {
    local dir=${1:-${MEETOA_TEST_MYSQL_DIR:-}} pid
    [ -e "$dir/.meetoa-mariadb" ] || die "$dir was not made by $0 start; not touching it"
    pid=$(cat "$dir/server.pid" 2> /dev/null || true)
    [ -n "$pid" ] && kill -KILL "$pid" 2> /dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    rm -f "$dir/sock" "$dir/mariadbd.pid"
    log "killed mariadbd $pid of $dir"
}

# Starts the server of DIR again on its data and its port (after kill).
resume() {
    local dir=${1:-${MEETOA_TEST_MYSQL_DIR:-}} pid port
    [ -e "$dir/.meetoa-mariadb" ] || die "$dir was not made by $0 start; not touching it"
    port=$(cat "$dir/port")
    : > "$dir/error.log"
    launch "$(find_server)" "$dir" "$port"
    pid=$!
    echo "$pid" > "$dir/server.pid"
    wait_ready "$dir" "$pid" || die "mariadbd did not come back on port $port"
    log "mariadbd $pid back on 127.0.0.1:$port"
}

stop() {
    local dir=${1:-${MEETOA_TEST_MYSQL_DIR:-}}
    [ -n "$dir" ] || die "usage: $0 stop DIR"
    [ -d "$dir" ] || die "$dir: no such folder"
    [ -e "$dir/.meetoa-mariadb" ] || die "$dir was not made by $0 start; not touching it"
    local pid
    pid=$(cat "$dir/server.pid" 2> /dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 300); do
            kill -0 "$pid" 2> /dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2> /dev/null; then
            log "mariadbd $pid did not stop within 30 s; killing it"
            kill -KILL "$pid" 2> /dev/null || true
        fi
    fi
    rm -rf "$dir"
    log "stopped and removed $dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
kill) kill_server "${2:-}" ;;
resume) resume "${2:-}" ;;
*) die "usage: $0 start | stop [DIR]" ;;
esac

# shellcheck shell=bash
# bench/lib/procs.sh — sourced by bench/run.sh and bench/callgrind.sh: the processes a
# benchmark starts are recorded in PIDS and stopped, politely then for good, on exit.

PIDS=()

# Stops one process: SIGTERM, up to 10 s (valgrind-run servers are slow to exit), then SIGKILL.
stop_pid() {
    local pid=$1
    kill -0 "$pid" 2> /dev/null || return 0
    kill -TERM "$pid" 2> /dev/null || true
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
}

# Stops every process recorded in PIDS.
stop_all() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
}

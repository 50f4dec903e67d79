#!/usr/bin/env bash
# Runs a command with a private MariaDB server (scripts/mariadb.sh) around it:
#   scripts/with-mariadb.sh CMD [ARGS...]
# CMD sees MEETOA_TEST_MYSQL_URL and MEETOA_TEST_MYSQL_DIR; the server is stopped and its
# folder removed when CMD ends, whatever its exit status, which is passed on.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
settings=$("$here/mariadb.sh" start)
while IFS='=' read -r name value; do
    case "$name" in
    MEETOA_TEST_MYSQL_URL | MEETOA_TEST_MYSQL_DIR) export "$name=$value" ;;
    esac
done <<< "$settings"
[ -n "${MEETOA_TEST_MYSQL_URL:-}" ] || { echo "with-mariadb.sh: mariadb.sh start printed no URL" >&2; exit 1; }
trap '"$here/mariadb.sh" stop "$MEETOA_TEST_MYSQL_DIR" >&2 || true' EXIT
status=0
"$@" || status=$?
exit "$status"

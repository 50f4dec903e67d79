#!/usr/bin/env bash
# run.sh CT_COMPARE server|control — runs tests/ct/ct_compare.c's program under valgrind's
# memcheck (see that file). CTest: ct.compare (server) and ct.compare_control (control).
#   server   passes when memcheck reports nothing and every answer is right;
#   control  passes only when memcheck does report a secret-dependent branch inside the
#            early-exit loop, proving that the server check would catch one.
set -uo pipefail
bin=$1 mode=$2
VALGRIND_ERRORS=99 # memcheck's exit code when it reported something (the program uses 0, 2, 3)

out=$(valgrind --error-exitcode=$VALGRIND_ERRORS --track-origins=yes "$bin" "$mode" 2>&1)
rc=$?
case "$mode" in
server)
  if [ $rc -ne 0 ]; then
    printf '%s\n' "$out"
    echo "ct.compare: FAILED (exit $rc; $VALGRIND_ERRORS = memcheck saw a secret-dependent branch or index)"
    exit 1
  fi
  echo "ct.compare: no secret-dependent branch or memory index in crypto_equal, crypto_hex, session cache lookups" ;;
control)
  if [ $rc -eq $VALGRIND_ERRORS ] && grep -q 'depends on uninitialised value' <<<"$out" &&
     grep -q 'early_exit_equal' <<<"$out"; then
    echo "ct.compare_control: memcheck reported the early-exit loop, as it must"
  else
    printf '%s\n' "$out"
    echo "ct.compare_control: FAILED: memcheck did not report the early-exit loop (exit $rc): the check is blind"
    exit 1
  fi ;;
*) echo "usage: $0 CT_COMPARE server|control" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# fuzz.sh — builds MeetOA's libFuzzer targets (tests/fuzz/fuzz_*.c) with clang into build-fuzz/
# and runs each for N seconds (default 10): first every saved regression input in
# tests/fuzz/regressions/NAME/, then libFuzzer on a temporary COPY of tests/fuzz/corpus/NAME/
# (the repository is never written). Only the parsers' own src/ files are compiled, not
# meetoa_core (no h2o event loop). Exits non-zero on any crash, leak or UBSan report and prints
# the reproducer's path (kept under build-fuzz/artifacts/NAME/).
#
#   scripts/fuzz.sh [SECONDS] [NAME...]    e.g. scripts/fuzz.sh 10; scripts/fuzz.sh 300 multipart
# Environment: CC (default clang). Targets run one after another.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_EACH="${1:-10}"
shift || true
case "$SECONDS_EACH" in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [NAME...]" >&2; exit 2 ;; esac
CC="${CC:-clang}"
OUT="$ROOT/build-fuzz"
FUZZ="$ROOT/tests/fuzz"

# target name -> the src/ files it needs, and the libraries
declare -A SRCS=(
  [multipart]="storage/multipart.c"
  [image_type]="storage/image_type.c"
  [text]="common/text.c"
  [fields]="http/fields.c common/text.c"
  [wx_parse]="wechat/wx_parse.c"
  [wx_legacy]="wechat/wx_legacy.c crypto/crypto.c"
  [b64]="crypto/crypto.c"
  [config]="config/config.c guard/ip_addr.c redis/redis_url.c common/log.c common/text.c crypto/crypto.c"
  [client_ip]="guard/ip_addr.c common/text.c"
)
declare -A LIBS=(
  [multipart]="" [image_type]="" [text]="-ljansson" [fields]="-ljansson"
  [wx_parse]="-ljansson" [wx_legacy]="-ljansson -lcrypto" [b64]="-lcrypto"
  [config]="-lyaml -lcrypto" [client_ip]=""
)
ALL=(multipart image_type text fields wx_parse wx_legacy b64 config client_ip)
if [ "$#" -gt 0 ]; then NAMES=("$@"); else NAMES=("${ALL[@]}"); fi

command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found (apt-get install clang)" >&2; exit 2; }

# shellcheck disable=SC2054 # the commas belong to -fsanitize=
CFLAGS=(-std=gnu17 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -g -O1 -fno-omit-frame-pointer
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -I"$ROOT/src")

mkdir -p "$OUT"
for name in "${NAMES[@]}"; do
  [ -n "${SRCS[$name]+x}" ] || { echo "fuzz.sh: unknown target '$name' (${ALL[*]})" >&2; exit 2; }
  srcs=()
  for s in ${SRCS[$name]}; do srcs+=("$ROOT/src/$s"); done
  echo "== build fuzz_$name"
  # -Werror for the fuzz target itself; src/ files are compiled with the same warnings.
  "$CC" "${CFLAGS[@]}" -Werror -c "$FUZZ/fuzz_$name.c" -o "$OUT/fuzz_$name.o"
  # shellcheck disable=SC2086
  "$CC" "${CFLAGS[@]}" "$OUT/fuzz_$name.o" "${srcs[@]}" -o "$OUT/fuzz_$name" ${LIBS[$name]} -lpthread
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/meetoa-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TZ=UTC

failed=()
for name in "${NAMES[@]}"; do
  bin="$OUT/fuzz_$name"
  art="$OUT/artifacts/$name"
  mkdir -p "$art"
  log="$WORK/$name.log"
  reg="$FUZZ/regressions/$name"
  regs=()
  if [ -d "$reg" ]; then
    while IFS= read -r -d '' f; do regs+=("$f"); done < <(find "$reg" -type f ! -name '.*' -print0 | sort -z)
  fi
  if [ "${#regs[@]}" -gt 0 ]; then
    echo "== replay ${#regs[@]} regression input(s) of $name"
    if ! "$bin" -runs=1 "${regs[@]}" >"$log" 2>&1; then
      tail -n 60 "$log" >&2
      echo "FAIL fuzz_$name: a regression input crashes again (inputs in $reg)" >&2
      failed+=("$name")
      continue
    fi
  fi
  corpus="$WORK/corpus-$name"
  mkdir -p "$corpus"
  [ -d "$FUZZ/corpus/$name" ] && cp -R "$FUZZ/corpus/$name/." "$corpus/"
  echo "== fuzz $name for ${SECONDS_EACH}s"
  dict=()
  [ -f "$FUZZ/$name.dict" ] && dict=(-dict="$FUZZ/$name.dict")
  if "$bin" "${dict[@]}" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
      -print_final_stats=0 -artifact_prefix="$art/" "$corpus" >"$log" 2>&1; then
    grep -E '^#[0-9]+ +DONE|Done [0-9]+ runs' "$log" | tail -n 1 || true
  else
    tail -n 60 "$log" >&2
    repro="$(grep -oE "Test unit written to [^ ]+" "$log" | tail -n 1 | sed 's/Test unit written to //')"
    echo "FAIL fuzz_$name: reproducer ${repro:-(none written; see log above)}" >&2
    echo "  replay: $bin ${repro:-}" >&2
    failed+=("$name")
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ${#NAMES[@]} target(s) ran ${SECONDS_EACH}s clean"

#!/usr/bin/env bash
# Installs the Debian packages MeetOA needs to build, run and test, when they are missing.
# Runs `apt-get update` once, and only when something is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libh2o-evloop-dev libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev
  libsqlite3-dev libmariadb-dev libcmocka-dev
  sqlite3 clang-format curl ca-certificates mariadb-server openssl clang
  libqrencode-dev # wxemu draws real QR codes in the mini program codes it answers
  zbar-tools      # zbarimg: tests read those codes back as a phone would
  valgrind # tests/ct: memcheck proves the secret comparisons constant-time (and /usr/include/valgrind/memcheck.h)
  libhiredis-dev redis-server # oa.redis.url: shared rate limits and session invalidation; tests run a private redis-server
  nginx-light                 # tests run a private nginx in front of meetoa (auth_request)
  prometheus                  # promtool checks /metrics; tests run a private Prometheus that scrapes meetoa
  systemd                     # systemd-analyze verify/security: tests check deploy/meetoa.service (nothing is started)
)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: need root to install ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

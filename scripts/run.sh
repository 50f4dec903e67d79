#!/usr/bin/env bash
# `make run`: the WeChat emulator and MeetOA on SQLite, in the foreground, with a
# copy-paste walk-through. Ctrl-C stops both. State lives in .run/ (database, config).
#   MEETOA_PORT (default 8080) and WXEMU_PORT (default 9101) pick the ports.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
mkdir -p .run
port=${MEETOA_PORT:-8080}
emu_port=${WXEMU_PORT:-9101}
appid=wx0123456789abcdef

# Secrets are made once per checkout and kept in .run/ (git-ignored).
[ -s .run/app-secret ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > .run/app-secret
[ -s .run/data-key ] || head -c 32 /dev/urandom | base64 > .run/data-key
secret=$(cat .run/app-secret)

cat > .run/application.yml <<YAML
server: {host: 127.0.0.1, port: $port, threads: 0}
logging: {level: info}
oa:
  wx: {app-id: $appid, app-secret: $secret, msgDataFormat: JSON, api-base: "http://127.0.0.1:$emu_port", timeout-ms: 5000}
  token: {header: X-OA-Token, expire-seconds: 7200}
  datasource: {url: "sqlite:.run/meetoa.db"}
  storage: {dir: .run/uploads}
  security: {data-key: $(cat .run/data-key)}
YAML

"$build/wxemu" --host 127.0.0.1 --port "$emu_port" --app "$appid:$secret" > .run/wxemu.log 2>&1 &
emu=$!
"$build/meetoa" serve --config .run/application.yml &
srv=$!
trap 'kill $srv $emu 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/wx/auth/info" && curl -s -o /dev/null "http://127.0.0.1:$emu_port/__emu/stats" && break
  sleep 0.1
done

cat <<TXT

MeetOA is running on http://127.0.0.1:$port (SQLite: .run/meetoa.db),
the WeChat emulator on http://127.0.0.1:$emu_port (log: .run/wxemu.log). Ctrl-C stops both.

Walk-through (copy and paste into another terminal):

  # 1. what wx.login() gives alice's phone
  CODE=\$(curl -s -X POST http://127.0.0.1:$emu_port/__emu/code -d '{"appid":"$appid","user":"alice"}' | sed 's/.*"code":"\\([^"]*\\)".*/\\1/')

  # 2. log in with it
  TOKEN=\$(curl -s -X POST http://127.0.0.1:$port/wx/auth/login_by_weixin \\
      -d "{\\"code\\":\\"\$CODE\\",\\"userInfo\\":{\\"nickName\\":\\"Alice 🌸\\",\\"avatarUrl\\":\\"https://example.com/a.png\\",\\"gender\\":2}}" \\
      | sed 's/.*"token":"\\([^"]*\\)".*/\\1/'); echo "token: \$TOKEN"

  # 3. who am I
  curl -s http://127.0.0.1:$port/wx/auth/info -H "X-OA-Token: \$TOKEN"; echo

  # 4. log out; the token stops working
  curl -s -X POST http://127.0.0.1:$port/wx/auth/logout -H "X-OA-Token: \$TOKEN"; echo
  curl -s http://127.0.0.1:$port/wx/auth/info -H "X-OA-Token: \$TOKEN"; echo

TXT
wait $srv

#!/usr/bin/env bash
# Runs a command with TEST_REDIS_URL pointing at a throwaway Redis (Debian's redis-server) on a free port,
# kept in memory only and stopped afterwards. The two-process tests give it to the app as NICEGUI_REDIS_URL.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
command -v redis-server >/dev/null 2>&1 || "$here/apt-install.sh" redis-server
workdir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$workdir" \
  --logfile "$workdir/log" --daemonize no &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null
export TEST_REDIS_URL="redis://127.0.0.1:$port/0"
"$@"

#!/usr/bin/env bash
# Runs a command with TEST_STRIPE_API_BASE pointing at a throwaway localstripe (a stateful Stripe-compatible server
# from PyPI, installed with the dev extra) on a free port, stopped afterwards. The tests that charge or save cards
# run once with the built-in test gateway and once with the Stripe gateway against it.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
localstripe=${LOCALSTRIPE:-"$here/../.venv/bin/localstripe"}
workdir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# --from-scratch: never load what an earlier run left in its store file.
(cd "$workdir" && exec "$localstripe" --port "$port" --from-scratch >"$workdir/log" 2>&1) &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$workdir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/js.stripe.com/v3/', timeout=1)" \
    >/dev/null 2>&1 && break
  sleep 0.1
done
python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/js.stripe.com/v3/', timeout=1)" \
  >/dev/null || { cat "$workdir/log" >&2; exit 1; }
export TEST_STRIPE_API_BASE="http://127.0.0.1:$port"
"$@"

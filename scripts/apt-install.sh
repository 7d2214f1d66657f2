#!/usr/bin/env bash
# Installs Debian packages (the arguments), retrying while another apt/dpkg holds the lock.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
for attempt in $(seq 1 30); do
  if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"; then
    exit 0
  fi
  echo "apt-get busy or failed (attempt $attempt); retrying in 10 s" >&2
  sleep 10
done
echo "could not install: $*" >&2
exit 1

#!/usr/bin/env bash
# `npm run demo`: Samply.Beam's "Getting started" network on this machine — broker on :8080, proxies
# proxy1.broker on :8081 and proxy2.broker on :8082 (apps app1 and app2, key App1Secret). Ctrl-C stops it.
# Set NATS_URL to use an existing NATS server (2.9+ with JetStream) instead of starting one. Arguments go to
# `beamline demo` (`npm run demo -- --port-base 9080`, `--secure-nats`). While it runs, .beamline/demo.env
# names its NATS URL and CA directory (.beamline/demo-ca) for every other `beamline` command.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

have_nats_server() {
  [ -n "${NATS_SERVER_BIN:-}" ] || command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]
}

[ -d node_modules ] || npm ci

if [ -z "${NATS_URL:-}" ] && ! have_nats_server; then
  echo "demo: installing nats-server (Debian package) ..." >&2
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y nats-server
fi

npm run build
exec node dist/apps/cli/src/main.js demo "$@"

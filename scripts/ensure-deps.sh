#!/usr/bin/env bash
# Installs what kube-ha needs on a fresh machine: etcd (Debian's etcd-server and
# etcd-client), tmux (end-to-end tests: with --tests, as `npm test` calls it, or
# KUBE_HA_NEED_TMUX=1), and the npm dependencies. Idempotent and quiet when
# everything is already there, so `npm start` and `npm test` call it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --tests ]; then KUBE_HA_NEED_TMUX=1; fi

missing=()
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "${KUBE_HA_NEED_TMUX:-}" = 1 ]; then
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)
  # lab slow-disk's test attaches strace to an etcd member.
  command -v strace >/dev/null 2>&1 || missing+=(strace)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    echo "kube-ha: installing ${missing[*]} with apt-get (the lab runs real etcd)" >&2
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "kube-ha: missing ${missing[*]}. Install etcd 3.4 or newer so that 'etcd' and 'etcdctl' are on PATH" >&2
    echo "         (macOS: brew install etcd; other systems: your package manager), then run this again." >&2
    exit 1
  fi
fi

# npm ci when node_modules is absent or older than the lock file; its prepare
# script builds dist/. Otherwise an incremental build keeps dist/ current (and
# the console's one-file bundle, see scripts/bundle.mjs).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "kube-ha: installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund
else
  npx --no-install tsc -p tsconfig.build.json
  node scripts/bundle.mjs
fi

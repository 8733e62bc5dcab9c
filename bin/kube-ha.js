#!/usr/bin/env node
// Thin launcher: the TypeScript sources are compiled to dist/ by `npm ci`
// (prepare) or `npm run build`.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`kube-ha: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

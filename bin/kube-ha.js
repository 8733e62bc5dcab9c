#!/usr/bin/env -S node --no-memory-reducer --max-semi-space-size=2
// --max-semi-space-size=2 (MB): V8 grows the young generation's two halves to
// 16 MB each on a long-lived process and keeps them; the console allocates
// little per second, and 2 MB halves took its RSS from ~150 to ~135 MB at the
// same CPU (issue 12; status' CPU unchanged).
// --no-memory-reducer: on an idle console V8's memory reducer ran a full GC
// of the main heap every ~10 s to give a few MB back, a large part of the
// console's idle CPU (npm run bench console). The console is long-lived and
// mostly idle: CPU matters more there than those MB.
// Thin launcher: the TypeScript sources are compiled to dist/ by `npm ci`
// (prepare) or `npm run build`.

import { readlinkSync, statSync } from 'node:fs';
import module from 'node:module';
import { isatty } from 'node:tty';

// React's development build costs several times the CPU of its production
// build on every redraw; a user of the tool is not developing React. (The
// bundle has production builds only; this covers running from dist/cli/.)
process.env.NODE_ENV ??= 'production';

// Node 22.1+ caches compiled code on disk between runs (the bundles are a few
// MB of JavaScript to compile on every start); Node 20 has no such API.
module.enableCompileCache?.();

// The terminal this started on, if any: a hung-up terminal is no longer one
// (isatty fails), though the descriptor still names it (Linux's /proc; a hang-up
// can come before this line runs).
const namesTerminal = (fd) => {
  try {
    return /^\/dev\/(pts\/|tty)/.test(readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    return false;
  }
};
const terminalFds = [0, 1, 2].filter((fd) => isatty(fd) || namesTerminal(fd));
const hungUp = () => terminalFds.length > 0 && terminalFds.every((fd) => !isatty(fd));
// A terminal that hung up (a dropped ssh session): Node's own exit would
// restore the terminal's settings on a terminal that is gone and abort on the
// EIO (Node 20: "Assertion failed" in ResetStdio, exit 139). End as a hung-up
// program does instead: by SIGHUP's default action, which the shell reports as
// 129. On every exit, not only the console's own 129: a hang-up while the
// console is still loading (before it handles SIGHUP, Ink's signal-exit
// catches it) ends by another path.
const endByHangUp = () => {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
};
process.on('exit', () => {
  if (hungUp()) endByHangUp();
});

/**
 * dist/bundle/main.js (scripts/bundle.mjs: every command path in a few files,
 * where its ~100-800 modules cost most of a command's startup), or
 * dist/cli/main.js and its modules when there is no bundle or it predates the
 * last compile (after a bare `tsc`).
 */
function entry() {
  const mtime = (rel) => {
    try {
      return statSync(new URL(rel, import.meta.url)).mtimeMs;
    } catch {
      return null;
    }
  };
  const bundle = mtime('../dist/bundle/main.js');
  const compiled = mtime('../dist/.tsbuildinfo');
  return bundle !== null && (compiled === null || bundle >= compiled)
    ? '../dist/bundle/main.js'
    : '../dist/cli/main.js';
}

const argv = process.argv.slice(2);
const bundled = entry() === '../dist/bundle/main.js';
// `status` from its CommonJS build through V8's code cache (bin/code-cache.js)
// when the bundle is fresh: an etcd-only status took 0.35 s instead of 0.6 s
// (issue 12). KUBE_HA_CODE_CACHE=0 runs the ES module bundle instead. (Under
// load its looks once missed deadlines more often than the ES module path's;
// both were the probes' timers counting a busy process's time, fixed in
// src/net/deadline.ts, after which both paths answered alike.)
const status =
  bundled && argv[0] === 'status' && process.env.KUBE_HA_CODE_CACHE !== '0'
    ? (await import('./code-cache.js')).loadStatusBundle()
    : null;
const { main } = status ?? (await import(entry()));
const exit = (code) => {
  status?.onExit();
  // 129 (128 + SIGHUP): the console saw its terminal hang up and its exit has
  // run. (Ink has already restored the settings it changed.) Any other code on
  // a hung-up terminal ends the same way, from the exit hook above.
  if (code === 129) endByHangUp();
  process.exit(code);
};

// Exit as soon as the command is done: a channel to a frozen etcd member can
// keep the event loop alive long after its call hit its deadline. (stdout and
// stderr are synchronous for files, pipes and terminals on Linux.)
main(argv).then(exit, (err) => {
  process.stderr.write(`kube-ha: ${err instanceof Error ? err.message : String(err)}\n`);
  exit(1);
});

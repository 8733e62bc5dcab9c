// `kube-ha status` through V8's code cache (issue 12). Node 20 keeps no
// compiled code between runs for ES modules (module.enableCompileCache is
// Node 22), so scripts/bundle.mjs also writes the status path as CommonJS
// (dist/bundle/status.cjs, and status-gce.cjs for the Compute clients it
// requires only when it observes GCE). Each is compiled here with vm.Script
// and the cached data of an earlier run: V8 then skips parsing and compiling
// the functions that run had compiled. After the command, a file whose cache
// was missing or rejected gets one, made then (so it holds the functions the
// run compiled, not just the top level).
//
// Where: $XDG_CACHE_HOME/kube-ha/v8 (else ~/.cache/kube-ha/v8), one file per
// bundle, named by the bundle's content hash (code-cache.json, written by the
// bundler) and Node's version, architecture and V8 flags: V8 checks only the
// source's length, and bytecode for other source text would be wrong. Each
// file starts with a SHA-256 of its data, checked before V8 sees it. A cache
// that is missing, corrupt, rejected or cannot be written costs only the
// compile; nothing about it is an error. bin/kube-ha.js comes here for
// `status`, and the console's GCE worker for the Compute clients
// (src/gce/cached-clients.ts), unless KUBE_HA_CODE_CACHE=0.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const BUNDLE = fileURLToPath(new URL('../dist/bundle/', import.meta.url));

/** The cache directory, or null (no home to put it in). */
function cacheDir() {
  const base = process.env.XDG_CACHE_HOME || (homedir() ? join(homedir(), '.cache') : '');
  return base ? join(base, 'kube-ha', 'v8') : null;
}

/** Appends a mark to KUBE_HA_TRACE's file, as src/trace.ts does (the tests read which cache was used). */
function mark(name) {
  const file = process.env.KUBE_HA_TRACE;
  if (!file) return;
  try {
    writeFileSync(file, `${performance.now().toFixed(0)} ${name}\n`, { flag: 'a' });
  } catch {}
}

const sha256 = (buf) => createHash('sha256').update(buf).digest();

/** What one process has loaded through the cache, and the caches it still has to write. */
let state;

/** Reads the bundle's hashes once; false when there is no CommonJS build to load. */
function init() {
  if (state !== undefined) return state !== null;
  let hashes;
  try {
    hashes = JSON.parse(readFileSync(join(BUNDLE, 'code-cache.json'), 'utf8'));
  } catch {
    state = null;
    return false;
  }
  // The flags V8 was started with change the code it makes (V8 checks them too).
  const flavour = sha256(`${process.version} ${process.arch} ${process.execArgv.join(' ')}`)
    .toString('hex')
    .slice(0, 12);
  /** Scripts to write a cache for: [file, script, cache path]. */
  state = { hashes, dir: cacheDir(), flavour, toWrite: [], loaded: new Map() };
  return true;
}

/** Runs a CommonJS file of dist/bundle/ through the cache (once per process) and returns its exports. */
function load(name) {
  const { hashes, dir, flavour, toWrite, loaded } = state;
  const have = loaded.get(name);
  if (have) return have.exports;
  const file = join(BUNDLE, name);
  const source = readFileSync(file, 'utf8');
  const cachePath = dir && hashes[name] ? join(dir, `${name}-${hashes[name]}-${flavour}`) : null;
  let cachedData;
  if (cachePath) {
    try {
      const raw = readFileSync(cachePath);
      const data = raw.subarray(32);
      if (raw.length > 32 && sha256(data).equals(raw.subarray(0, 32))) cachedData = data;
      else mark(`code cache corrupt ${name}`);
    } catch {}
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  mark(`code cache ${used ? 'used' : cachedData ? 'rejected' : 'missing'} ${name}`);
  if (cachePath && !used) toWrite.push([name, script, cachePath]);
  const nodeRequire = createRequire(file);
  // The Compute clients' file, required by status.cjs, comes from the cache too.
  const require = Object.assign(
    (id) => (id === './status-gce.cjs' ? load('status-gce.cjs') : nodeRequire(id)),
    nodeRequire,
  );
  const module = { exports: {}, id: file, filename: file, loaded: false };
  loaded.set(name, module);
  script.runInThisContext()(module.exports, require, module, file, dirname(file));
  module.loaded = true;
  return module.exports;
}

/**
 * Writes the caches that were missing or rejected, made now (so they hold
 * the functions run so far, not just the top level). Each at most once.
 */
export function writeCaches() {
  if (!state?.dir || !state.toWrite.length) return;
  const { dir, flavour } = state;
  const toWrite = state.toWrite.splice(0);
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, script, cachePath] of toWrite) {
      const data = script.createCachedData();
      // Whole or not at all: another process may be reading it.
      const tmp = `${cachePath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      writeFileSync(tmp, Buffer.concat([sha256(data), data]));
      renameSync(tmp, cachePath);
      // This file's caches of earlier builds, for the same Node and flags.
      for (const old of readdirSync(dir))
        if (old.startsWith(`${name}-`) && old.endsWith(`-${flavour}`) && join(dir, old) !== cachePath)
          rmSync(join(dir, old), { force: true });
      mark(`code cache written ${name}`);
    }
  } catch {}
}

/**
 * Loads dist/bundle/status.cjs through the code cache and returns its
 * exports (main()), or null when there is no such build (the caller then
 * runs the ES module bundle). `onExit` is to be called once the command is
 * done: it writes the caches that were missing or rejected.
 */
export function loadStatusBundle() {
  if (!init()) return null;
  return { main: load('status.cjs').main, onExit: writeCaches };
}

/**
 * The Compute clients (dist/gce/clients.js built as status-gce.cjs) through
 * the code cache, for the GCE source wherever it runs (the console's worker
 * thread too: src/gce/cached-clients.ts, which decides on KUBE_HA_CODE_CACHE=0
 * as the launcher does for status); null when there is no such build.
 */
export function loadComputeClients() {
  if (!init()) return null;
  return load('status-gce.cjs');
}

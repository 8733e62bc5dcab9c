// The single executable's injected main script. Node 24 runs it as CommonJS,
// but kube-ha and Ink (its reconciler, yoga-layout) use top-level await, which
// CommonJS cannot hold: the program is ES modules embedded as assets
// (scripts/sea.mjs: an entry with a chunk per command, as the npm package's
// bundle). They are written once to a private cache directory and imported
// from there: from a data: URL the one-file program took ~2 s longer to start
// (every stack trace and import.meta.url carried the 7 MB URL), and a command
// loads only its chunks. Each copy is compared with the embedded one on every
// start and rewritten when it differs. The console's GCE worker thread starts
// its own chunk file. With no private writable directory it says so and exits 1.
'use strict';
const { getAsset } = require('node:sea');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

/** { dir: 'kube-ha-<version>-<sha-256 prefix>', files: [...], main: 'main.js' }: one directory per build. */
const program = JSON.parse(getAsset('program.json', 'utf8'));
const DAY_MS = 24 * 3600 * 1000;

function cacheDirs() {
  const dirs = [];
  if (process.env.XDG_CACHE_HOME) dirs.push(path.join(process.env.XDG_CACHE_HOME, 'kube-ha', 'executable'));
  try {
    dirs.push(path.join(os.homedir(), '.cache', 'kube-ha', 'executable'));
  } catch {}
  dirs.push(path.join(os.tmpdir(), `kube-ha-executable-${process.getuid()}`));
  return dirs;
}

/** The directory, made 0700 if new, when it is ours and no one else can write to it. */
function privateDir(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o022) === 0;
}

/** Writes what differs from the embedded program into base/<build>/; that directory. */
function materialize(base) {
  if (!privateDir(base)) return null;
  const dir = path.join(base, program.dir);
  if (!privateDir(dir)) return null;
  for (const f of program.files) {
    const want = Buffer.from(getAsset(`program/${f}`));
    const file = path.join(dir, f);
    let same = false;
    try {
      same = fs.readFileSync(file).equals(want);
    } catch {}
    if (same) continue;
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, want, { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  // Its mtime says when it was last used: other builds' directories unused for a day go.
  const now = new Date();
  fs.utimesSync(dir, now, now);
  for (const d of fs.readdirSync(base)) {
    if (d === program.dir || !d.startsWith('kube-ha-')) continue;
    const p = path.join(base, d);
    if (Date.now() - fs.statSync(p).mtimeMs > DAY_MS) fs.rmSync(p, { recursive: true, force: true });
  }
  return dir;
}

function mainUrl() {
  for (const base of cacheDirs()) {
    try {
      const dir = materialize(base);
      if (dir) return pathToFileURL(path.join(dir, program.main)).href;
    } catch {}
  }
  return null;
}

const url = mainUrl();
if (url === null) {
  process.stderr.write(
    'kube-ha: no private cache directory could be written (HOME, XDG_CACHE_HOME, TMPDIR)\n',
  );
  process.exit(1);
}
import(url).catch((err) => {
  process.stderr.write(`kube-ha: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

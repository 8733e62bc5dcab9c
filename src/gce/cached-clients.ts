// The Compute clients through V8's code cache, for the console's GCE worker:
// the worker loads them as ES modules otherwise, which Node 20 compiles anew
// on every start (about half a second of its first poll, the last part of the
// console's first full screen). bin/code-cache.js serves the CommonJS build
// of dist/gce/clients.js (status-gce.cjs), as it does for `kube-ha status`.
// Anything missing (no launcher beside the bundle, as in the single
// executable; KUBE_HA_CODE_CACHE=0) gives null: the caller imports the
// clients as usual.
//
// Only where nothing else loads the clients: the CommonJS build carries its
// own copies of the libraries, and a process with both would load them twice.

type ClientsModule = typeof import('./clients.js');

interface CodeCacheLoader {
  loadComputeClients(): ClientsModule | null;
  writeCaches(): void;
}

let loader: Promise<CodeCacheLoader | null> | null = null;

function codeCache(): Promise<CodeCacheLoader | null> {
  loader ??=
    process.env.KUBE_HA_CODE_CACHE === '0'
      ? Promise.resolve(null)
      : // From dist/<dir>/ or dist/bundle/: the launcher's directory is two up.
        (import(new URL('../../bin/code-cache.js', import.meta.url).href) as Promise<CodeCacheLoader>).catch(
          () => null,
        );
  return loader;
}

/** The clients' module through the code cache, or null (then import ./clients.js). */
export async function cachedComputeClients(): Promise<ClientsModule | null> {
  try {
    return (await codeCache())?.loadComputeClients() ?? null;
  } catch {
    return null;
  }
}

/** Writes the code caches that were missing or rejected (after the first calls: with the functions they compiled). */
export async function writeCodeCaches(): Promise<void> {
  try {
    (await codeCache())?.writeCaches();
  } catch {
    // A cache that cannot be written costs the next start a compile, nothing more.
  }
}

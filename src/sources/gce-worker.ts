// The GCE source on a worker thread, for the live console. Building a Compute
// client makes protobufjs parse and hash the library's 11 MB API definition:
// ~2 s of CPU on the thread that does it. On the console's own thread that
// froze the screen and the keys, and held back the first frame (the etcd part)
// until the GCE part was ready (measured with `npm run bench console`). Here
// the worker pays that, and the console's thread only exchanges messages.
//
// Same interface as createGceSource (src/sources/gce-source.ts), which runs
// unchanged inside the worker. This file is also the worker's entry point.
import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { GceObservation } from '../domain/types.js';
import type { ObserveGceOptions } from './gce-source.js';
import type { GceSourceLike } from './observe.js';
import type { Target } from './target.js';

const TAG = 'kube-ha-gce-source';

type Request = { id: number; op: 'observe' | 'close'; opts?: ObserveGceOptions };
type SerializedError = { message: string; name: string; code?: string | number; status?: number };
type Reply =
  | { id: number; ok: true; value?: GceObservation }
  | { id: number; ok: false; error: SerializedError };

function serializeError(err: unknown): SerializedError {
  const e = err as { message?: unknown; name?: unknown; code?: unknown; status?: unknown };
  const out: SerializedError = {
    message: err instanceof Error ? err.message : String(err),
    name: typeof e?.name === 'string' ? e.name : 'Error',
  };
  if (typeof e?.code === 'string' || typeof e?.code === 'number') out.code = e.code;
  if (typeof e?.status === 'number') out.status = e.status;
  return out;
}

function deserializeError(s: SerializedError): Error {
  const err = new Error(s.message) as Error & { code?: string | number; status?: number };
  err.name = s.name;
  if (s.code !== undefined) err.code = s.code;
  if (s.status !== undefined) err.status = s.status;
  return err;
}

export function createGceWorker(target: Target): GceSourceLike & {
  observe(opts?: ObserveGceOptions): Promise<GceObservation>;
} {
  if (!target.project || !target.region || !target.compute)
    throw new Error('GCE source needs a project, a region and a Compute target');
  const pending = new Map<number, { resolve: (v: Reply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let worker: Worker | null = null;
  let closed = false;

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  // The worker's heap holds the Compute client's ~60 MB API definition. V8's
  // memory reducer marks all of it every ~10 s on an idle console to give a
  // few MB back: ~0.8 % of a core on the GC threads (npm run bench console).
  // The flag applies to isolates created after it is set: this worker's.
  setFlagsFromString('--no-memory-reducer');
  const spawn = (): Worker => {
    const w = new Worker(new URL(import.meta.url), {
      workerData: { tag: TAG, target },
      // A small young generation: the worker allocates a few hundred KB per poll, and
      // V8's default semi-spaces grew to ~16 MB each, held for the console's life (issue 12:
      // RSS 162 -> 150 MB on the lab).
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
      // The library's warnings go to stderr, which the console sends to its debug log.
      stdout: true,
      stderr: true,
    });
    w.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    w.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    // A poll in flight never keeps the process alive on its own.
    w.unref();
    w.on('message', (reply: Reply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      p.resolve(reply);
    });
    const gone = (err: Error) => {
      if (worker === w) worker = null; // the next observe() starts a new one
      failAll(err);
    };
    w.on('error', (err) => gone(new Error(`GCE worker failed: ${err.message}`)));
    w.on('exit', (code) => gone(new Error(`GCE worker exited (code ${code})`)));
    return w;
  };
  const call = (op: Request['op'], opts?: ObserveGceOptions): Promise<Reply> => {
    worker ??= spawn();
    const w = worker;
    const id = nextId++;
    return new Promise<Reply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      w.postMessage({ id, op, ...(opts ? { opts } : {}) } satisfies Request);
    });
  };
  // Start now: the worker loads the Compute client while this thread draws the etcd part.
  worker = spawn();

  return {
    async observe(opts?: ObserveGceOptions): Promise<GceObservation> {
      if (closed) throw new Error('the GCE source is closed');
      const reply = await call('observe', opts);
      if (!reply.ok) throw deserializeError(reply.error);
      return reply.value!;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const w = worker;
      worker = null;
      if (!w) return;
      // Let the worker close its clients, but never wait long for it.
      const bye = new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          w.off('message', onReply);
          w.off('exit', done);
          resolve();
        };
        const onReply = (r: Reply) => {
          if (r.id === 0) done();
        };
        const t = setTimeout(done, 1000);
        w.on('message', onReply);
        w.once('exit', done);
        w.postMessage({ id: 0, op: 'close' } satisfies Request);
      });
      await bye;
      failAll(new Error('the GCE source is closed'));
      await w.terminate();
    },
  };
}

// The worker's side: createGceSource behind the message port.
if (!isMainThread && parentPort && (workerData as { tag?: string } | null)?.tag === TAG) {
  const port = parentPort;
  // As on the console's thread, a stray rejection from the library is logged, not fatal.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(
      `GCE worker: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`,
    );
  });
  const { createGceSource } = await import('./gce-source.js');
  // Nothing else in the worker loads the Compute clients: they may come from V8's code cache.
  const source = createGceSource((workerData as { target: Target }).target, { codeCache: true });
  port.on('message', (req: Request) => {
    if (req.op === 'close') {
      void Promise.resolve(source.close())
        .catch(() => {})
        .finally(() => {
          port.postMessage({ id: req.id, ok: true } satisfies Reply);
          port.close();
        });
      return;
    }
    source.observe(req.opts).then(
      (value) => port.postMessage({ id: req.id, ok: true, value } satisfies Reply),
      (err: unknown) =>
        port.postMessage({ id: req.id, ok: false, error: serializeError(err) } satisfies Reply),
    );
  });
}

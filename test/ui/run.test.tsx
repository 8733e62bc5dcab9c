import { EventEmitter } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runConsole } from '../../src/ui/run.js';
import { colorWanted } from '../../src/ui/theme.js';
import { healthy3 } from './fixtures.js';
import { plain, storeWith } from './harness.js';

class TtyOut extends EventEmitter {
  isTTY = true;
  columns = 100;
  rows = 30;
  chunks: string[] = [];
  write = (s: string) => {
    this.chunks.push(s);
    return true;
  };
}

class TtyIn extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  rawMode = false;
  write(data: string) {
    this.data = data;
    this.emit('readable');
  }
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode(on: boolean) {
    this.rawMode = on;
  }
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

function start(opts: { dir: string; stop?: () => void }) {
  const stdout = new TtyOut();
  const stdin = new TtyIn();
  const pollers = { refreshNow: vi.fn(), stop: opts.stop ?? vi.fn() };
  const debugLogPath = join(opts.dir, 'logs', 'debug.log');
  const done = runConsole({
    store: storeWith(healthy3()),
    pollers,
    write: false,
    color: false,
    ascii: false,
    stateDir: opts.dir,
    debugLogPath,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
  });
  const ready = () => vi.waitFor(() => expect(stdin.listenerCount('readable')).toBeGreaterThan(0));
  return { stdout, stdin, pollers, done, debugLogPath, ready };
}

describe('runConsole', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-ha-run-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('draws on the alternate screen, quits on q with 0, and gives the terminal back', async () => {
    const run = start({ dir });
    await run.ready();
    expect(run.stdin.rawMode).toBe(true);
    run.stdin.write('q');
    expect(await run.done).toBe(0);
    expect(run.stdout.chunks[0]).toBe('\u001b[?1049h');
    expect(run.stdout.chunks.at(-1)).toBe('\u001b[?1049l');
    expect(plain(run.stdout.chunks.join(''))).toContain('main   3/3 healthy');
    expect(run.stdin.rawMode).toBe(false);
    expect(run.pollers.stop).toHaveBeenCalledTimes(1);
  });

  it('logs the session timeline to the state dir as it comes (memory keeps only the newest)', async () => {
    const run = start({ dir });
    await run.ready();
    run.stdin.write('p');
    run.stdin.write('q');
    expect(await run.done).toBe(0);
    const [name, ...more] = await readdir(join(dir, 'sessions'));
    expect(more).toEqual([]);
    expect(name).toMatch(/^console-\d{4}-\d\d-\d\dT[\d-]+Z-\d+\.jsonl$/);
    const events = (await readFile(join(dir, 'sessions', name as string), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events[0].message).toMatch(/^first observation: 3 replicas/);
    expect(events.at(-1).message).toBe('updates paused (p resumes)');
    for (const e of events) expect(e.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('sends console output, warnings and stray stderr to the debug log, never to the screen', async () => {
    const originalLog = console.log;
    const originalStderr = process.stderr.write;
    const run = start({ dir });
    await run.ready();
    console.log('library chatter %d', 42);
    console.error('library complaint');
    process.stderr.write('raw stderr write\n');
    process.emitWarning('something deprecated', 'DeprecationWarning');
    await new Promise((r) => setImmediate(r));
    run.stdin.write('q');
    expect(await run.done).toBe(0);
    const screen = run.stdout.chunks.join('');
    for (const s of ['library chatter', 'library complaint', 'raw stderr write', 'something deprecated']) {
      expect(screen).not.toContain(s);
    }
    const log = await readFile(run.debugLogPath, 'utf8');
    expect(log).toContain('[console.log] library chatter 42');
    expect(log).toContain('[console.error] library complaint');
    expect(log).toContain('[stderr] raw stderr write');
    expect(log).toContain('[warning] DeprecationWarning: something deprecated');
    expect(console.log).toBe(originalLog);
    expect(process.stderr.write).toBe(originalStderr);
  });

  it('clears its screen when the terminal narrows (the terminal rewraps the old frame), not when it widens', async () => {
    const run = start({ dir });
    await run.ready();
    const clear = '\u001b[2J\u001b[H';
    const clearsAfter = (from: number) =>
      run.stdout.chunks.slice(from).filter((c) => c.includes(clear)).length;
    let mark = run.stdout.chunks.length;
    run.stdout.columns = 120;
    run.stdout.emit('resize');
    expect(clearsAfter(mark)).toBe(0);
    mark = run.stdout.chunks.length;
    run.stdout.columns = 80;
    run.stdout.emit('resize');
    expect(clearsAfter(mark)).toBe(1);
    run.stdin.write('q');
    expect(await run.done).toBe(0);
  });

  it('Ctrl-C quits with 0; SIGTERM ends with 143', async () => {
    const a = start({ dir });
    await a.ready();
    a.stdin.write('\u0003');
    expect(await a.done).toBe(0);
    const b = start({ dir });
    await b.ready();
    process.emit('SIGTERM', 'SIGTERM');
    expect(await b.done).toBe(143);
    expect(b.stdout.chunks.at(-1)).toBe('\u001b[?1049l');
  });
});

describe('colorWanted', () => {
  it('follows NO_COLOR (when not empty) and --no-color', () => {
    expect(colorWanted({}, false)).toBe(true);
    expect(colorWanted({ NO_COLOR: '1' }, false)).toBe(false);
    expect(colorWanted({ NO_COLOR: '' }, false)).toBe(true);
    expect(colorWanted({}, true)).toBe(false);
  });
});

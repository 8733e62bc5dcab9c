// `npm run screenshots`: the real console, against a real 3-zone lab, in a
// real terminal (a tmux pane), captured with its colours (`tmux capture-pane
// -e`), turned into HTML here (SGR -> styled spans) and drawn to PNG by
// headless Chromium. Writes screenshots/{healthy,crashed-leader,help,narrow-80x24,quorum-lost-recover}.png.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crashVisible, headerLeader, wholeVisible } from './console-bench.js';
import { timeCommand } from './measure.js';
import { BIN, TmuxPane } from './tmux-pane.js';

const OUT = fileURLToPath(new URL('../../screenshots/', import.meta.url));

// ---- SGR -> HTML --------------------------------------------------------

/** A dark terminal theme: the 16 ANSI colours, then the default foreground and background. */
const PALETTE = [
  '#1e1e1e',
  '#cd3131',
  '#0dbc79',
  '#e5e510',
  '#2472c8',
  '#bc3fbc',
  '#11a8cd',
  '#e5e5e5',
  '#767676',
  '#f14c4c',
  '#23d18b',
  '#f5f543',
  '#3b8eea',
  '#d670d6',
  '#29b8db',
  '#ffffff',
];
const DEFAULT_FG = '#d4d4d4';
const DEFAULT_BG = '#1e1e1e';

function color256(n: number): string {
  if (n < 16) return PALETTE[n]!;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const level = (x: number) => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${level(Math.floor(i / 36))},${level(Math.floor(i / 6) % 6)},${level(i % 6)})`;
}

interface Sgr {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
}

const plain = (): Sgr => ({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
});

/** Applies one SGR parameter list (`1;38;5;208`) to the state. */
export function applySgr(state: Sgr, params: string): Sgr {
  const s = { ...state };
  const p = params === '' ? [0] : params.split(';').map((x) => (x === '' ? 0 : Number(x)));
  for (let i = 0; i < p.length; i++) {
    const n = p[i]!;
    if (n === 0) Object.assign(s, plain());
    else if (n === 1) s.bold = true;
    else if (n === 2) s.dim = true;
    else if (n === 3) s.italic = true;
    else if (n === 4) s.underline = true;
    else if (n === 7) s.inverse = true;
    else if (n === 22) s.bold = s.dim = false;
    else if (n === 23) s.italic = false;
    else if (n === 24) s.underline = false;
    else if (n === 27) s.inverse = false;
    else if (n >= 30 && n <= 37) s.fg = PALETTE[n - 30]!;
    else if (n >= 90 && n <= 97) s.fg = PALETTE[n - 90 + 8]!;
    else if (n >= 40 && n <= 47) s.bg = PALETTE[n - 40]!;
    else if (n >= 100 && n <= 107) s.bg = PALETTE[n - 100 + 8]!;
    else if (n === 39) s.fg = null;
    else if (n === 49) s.bg = null;
    else if (n === 38 || n === 48) {
      let c: string | null = null;
      if (p[i + 1] === 5) {
        c = color256(p[i + 2] ?? 0);
        i += 2;
      } else if (p[i + 1] === 2) {
        c = `rgb(${p[i + 2] ?? 0},${p[i + 3] ?? 0},${p[i + 4] ?? 0})`;
        i += 4;
      }
      if (n === 38) s.fg = c;
      else s.bg = c;
    }
  }
  return s;
}

const escapeHtml = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function styleOf(s: Sgr): string {
  let fg = s.fg ?? DEFAULT_FG;
  let bg = s.bg;
  if (s.inverse) {
    [fg, bg] = [bg ?? DEFAULT_BG, fg];
  }
  const css: string[] = [`color:${fg}`];
  if (bg) css.push(`background:${bg}`);
  if (s.bold) css.push('font-weight:bold');
  if (s.dim) css.push('opacity:0.6');
  if (s.italic) css.push('font-style:italic');
  if (s.underline) css.push('text-decoration:underline');
  return css.join(';');
}

/**
 * A `tmux capture-pane -e -p` screen as HTML rows. tmux carries attributes
 * across line ends, so the state does too. Every character sits in a cell one
 * column wide, so glyphs from a fallback font cannot shift the grid.
 */
export function screenToHtml(screen: string, cols: number, rows: number): string {
  let state = plain();
  const lines = screen.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const line = lines[r] ?? '';
    let html = '';
    let col = 0;
    const re = /\u001b\[([0-9;]*)m|\u001b\[[0-9;?]*[A-Za-z]|([^\u001b]+)/g;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      if (m[1] !== undefined) state = applySgr(state, m[1]);
      else if (m[2] !== undefined) {
        const style = styleOf(state);
        for (const ch of m[2]) {
          if (col >= cols) break;
          // Box drawing is stretched to the row height so that borders join up.
          const box = ch >= '\u2500' && ch <= '\u257f';
          html += `<span${box ? ' class="b"' : ''} style="${style}">${ch === ' ' ? '&nbsp;' : escapeHtml(ch)}</span>`;
          col++;
        }
      }
    }
    out.push(`<div class="row">${html}</div>`);
  }
  return out.join('\n');
}

const FONT_PX = 15;
const CELL_W = 9; // px: a fixed grid, whatever the font's advance
const CELL_H = 19;
const PAD = 16;
const TITLE_H = 28;

export function page(screen: string, cols: number, rows: number, title: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;background:#0d1117}
.win{margin:0;background:${DEFAULT_BG};width:${cols * CELL_W + 2 * PAD}px;height:${rows * CELL_H + 2 * PAD + TITLE_H}px;overflow:hidden}
.title{height:${TITLE_H}px;background:#2d2d2d;color:#9d9d9d;font:13px 'DejaVu Sans',sans-serif;line-height:${TITLE_H}px;text-align:center;position:relative}
.dots{position:absolute;left:12px;top:9px}
.dots i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:7px}
.term{padding:${PAD}px;font-family:'DejaVu Sans Mono',monospace;font-size:${FONT_PX}px;line-height:${CELL_H}px;color:${DEFAULT_FG}}
.row{height:${CELL_H}px;white-space:pre;display:flex}
.row span{display:inline-block;width:${CELL_W}px;height:${CELL_H}px;text-align:center;overflow:visible}
.row span.b{transform:scaleY(1.25)}
</style></head><body><div class="win"><div class="title"><span class="dots"><i style="background:#ff5f56"></i><i style="background:#ffbd2e"></i><i style="background:#27c93f"></i></span>${escapeHtml(title)}</div>
<div class="term">${screenToHtml(screen, cols, rows)}</div></div></body></html>`;
}

// ---- Chromium -----------------------------------------------------------

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Finds headless Chromium, installing Debian's package if it is missing (saying so). */
function ensureChromium(): string {
  for (const c of ['chromium', 'chromium-browser', 'google-chrome']) if (which(c)) return c;
  if (!which('apt-get'))
    throw new Error(
      'Chromium is needed to draw the PNGs: install chromium (or google-chrome) and run this again',
    );
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  process.stderr.write(
    'kube-ha: installing chromium and fonts-dejavu-core with apt-get (to draw the PNGs)\n',
  );
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args];
    execFileSync(cmd!, rest, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', 'chromium', 'fonts-dejavu-core']);
  return 'chromium';
}

function chromiumScreenshot(
  chromium: string,
  html: string,
  png: string,
  w: number,
  h: number,
): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'kube-ha-shot-'));
  const file = join(tmp, 'screen.html');
  writeFileSync(file, html);
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    `--user-data-dir=${join(tmp, 'profile')}`,
    `--screenshot=${png}`,
    `--window-size=${w},${h}`,
    `file://${file}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(chromium, args, { timeout: 60_000 }, (err, _stdout, stderr) => {
      rmSync(tmp, { recursive: true, force: true });
      if (err) reject(new Error(`chromium failed: ${stderr.trim().split('\n').slice(-3).join('\n')}`));
      else resolve();
    });
  });
}

async function shoot(chromium: string, pane: TmuxPane, name: string, title: string): Promise<void> {
  const { cols, rows } = pane.opts;
  const screen = await pane.capture({ escapes: true });
  const png = join(OUT, `${name}.png`);
  await chromiumScreenshot(
    chromium,
    page(screen, cols, rows, title),
    png,
    cols * CELL_W + 2 * PAD,
    rows * CELL_H + 2 * PAD + TITLE_H,
  );
  process.stdout.write(`wrote screenshots/${name}.png (${cols}x${rows})\n`);
}

// ---- The scenes ---------------------------------------------------------

async function main(): Promise<void> {
  const chromium = ensureChromium();
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'kube-ha-shots-'));
  const panes: TmuxPane[] = [];
  const open = async (cols: number, rows: number) => {
    const p = await TmuxPane.start({ args: ['ui', '--lab-dir', dir], cols, rows });
    panes.push(p);
    return p;
  };
  try {
    process.stdout.write('starting a 3-zone lab...\n');
    // The TTL ends a leaked lab; `lab down` below is the cleanup.
    const up = await timeCommand(process.execPath, [BIN, 'lab', 'up', '--dir', dir, '--ttl', '900']);
    if (up.code !== 0) throw new Error('lab up failed');
    const st = JSON.parse(
      (await timeCommand(process.execPath, [BIN, 'status', '--lab-dir', dir, '--json'])).stdout,
    ) as { replicas: { name: string; zone: string | null }[] };
    const names = st.replicas.map((r) => r.name);
    const zones = st.replicas.map((r) => r.zone ?? '');
    const settled = (s: string) => wholeVisible(s, names, zones);

    const wide = await open(120, 36);
    await wide.waitFor(settled, 30_000);
    await shoot(chromium, wide, 'healthy', 'kube-ha ui — 3 zones, healthy (120×36)');

    await wide.sendKeys('?');
    await wide.waitFor((s) => s.includes('this help'), 10_000);
    await shoot(chromium, wide, 'help', 'kube-ha ui — ? help (120×36)');
    await wide.sendKeys('Escape');
    await wide.waitFor((s) => !s.includes('this help') && settled(s), 10_000);

    const narrow = await open(80, 24);
    await narrow.waitFor((s) => s.startsWith('kube-ha · kube-ha-lab') && settled(s), 30_000);
    await shoot(chromium, narrow, 'narrow-80x24', 'kube-ha ui — 80×24');
    await narrow.sendKeys('q');
    await narrow.waitForExit();

    const screen = (await wide.capture()).toString();
    const leader = headerLeader(screen, 'main');
    if (!leader) throw new Error('no main leader on screen');
    const crash = await timeCommand(process.execPath, [BIN, 'lab', 'crash', leader, '--dir', dir]);
    if (crash.code !== 0) throw new Error(`lab crash ${leader} failed`);
    // Both clusters have elected again: the screen shows the new leaders and the warnings.
    await wide.waitFor(
      (s) =>
        crashVisible(s, leader) &&
        /^events\s+2\/3 healthy/m.test(s) &&
        (headerLeader(s, 'events') ?? leader) !== leader,
      20_000,
    );
    await shoot(
      chromium,
      wide,
      'crashed-leader',
      `kube-ha ui — after \`kube-ha lab crash ${leader}\` (120×36)`,
    );
    await wide.sendKeys('q');
    await wide.waitForExit();

    // Quorum lost: a second replica's VM stopped beside the crashed one; V shows the diagnosis.
    const other = names.find((n) => n !== leader)!;
    const stop = await timeCommand(process.execPath, [BIN, 'lab', 'stop', other, '--dir', dir]);
    if (stop.code !== 0) throw new Error(`lab stop ${other} failed`);
    const write = await TmuxPane.start({ args: ['ui', '--lab-dir', dir, '--write'], cols: 120, rows: 36 });
    panes.push(write);
    // Every VM's status known (Compute answered: the stopped one TERMINATED) before the diagnosis.
    await write.waitFor(
      (s) => /QUORUM LOST/.test(s) && s.includes('TERMINATED') && names.every((n) => s.includes(n)),
      30_000,
    );
    await write.sendKeys('V');
    await write.waitFor(
      (s) => s.includes('Quorum lost: kube-ha recover') && s.includes('Enter plans'),
      15_000,
    );
    await shoot(
      chromium,
      write,
      'quorum-lost-recover',
      `kube-ha ui --write — V after \`lab crash ${leader}\` and \`lab stop ${other}\` (120×36)`,
    );
    await write.sendKeys('Escape');
    await write.sendKeys('q');
    await write.waitForExit();
  } finally {
    for (const p of panes) await p.close();
    await timeCommand(process.execPath, [BIN, 'lab', 'down', '--dir', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`screenshots failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

// The console: reads the store, plans the screen for the terminal's size, and
// turns keys into commands. It never polls or awaits anything itself.
import { Box, type Key, useApp } from 'ink';
import { useCallback, useMemo, useRef } from 'react';
import type { ConsoleStore } from '../../store/consoleStore.js';
import { writeIncidentLog } from '../../store/incident.js';
import { asLeasesSlot } from '../../store/leases.js';
import { effectiveSelection, visibleReplicas, zoneGroups } from '../../store/selectors.js';
import type { SessionLog } from '../../store/sessionLog.js';
import { SOURCE_KEYS } from '../../store/types.js';
import { type ActionHandler, type CommandContext, handleKey } from '../commands.js';
import { ConsoleProvider } from '../contexts/ConsoleContext.js';
import { useConsoleState } from '../hooks/useConsoleState.js';
import { useKeyCommands } from '../hooks/useKeyCommands.js';
import { useNow } from '../hooks/useNow.js';
import { useTerminalSize } from '../hooks/useTerminalSize.js';
import { type BodyPlan, planDashboard, planDetail, planHelp, usableRows } from '../layout.js';
import type { OpsController } from '../ops/controller.js';
import { useOpsState } from '../ops/useOps.js';
import { sourceTrouble, type ViewContext } from '../rows/context.js';
import { footerLine } from '../rows/footer.js';
import { headerLines } from '../rows/header.js';
import { seg } from '../text.js';
import type { Theme } from '../theme.js';
import { Lines } from './Lines.js';
import { OpsScreen } from './OpsScreen.js';
import { ZoneGrid } from './ZoneGrid.js';

export interface AppProps {
  store: ConsoleStore;
  theme: Theme;
  /** --write: the action keys call onAction instead of explaining read-only mode. */
  write: boolean;
  /** Where `e` writes the incident log. */
  stateDir: string;
  /** The whole session's timeline on disk: `e` exports it rather than only what memory holds. */
  sessionLog?: SessionLog | null;
  /** `r`: poll every source now. */
  refresh?: () => void;
  /**
   * The operator flows (--write): the action keys start them, and while one
   * is up its screens replace the body and take the keys.
   */
  ops?: OpsController | null;
  /** What the action keys call instead of starting an operator flow (tests). */
  onAction?: ActionHandler;
  /** Clock for ages and timestamps (tests). */
  clock?: () => number;
}

export function App(props: AppProps) {
  const value = useMemo(() => ({ store: props.store, theme: props.theme }), [props.store, props.theme]);
  return (
    <ConsoleProvider value={value}>
      <Console {...props} />
    </ConsoleProvider>
  );
}

function Console(props: AppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const status = useConsoleState((s) => s.status);
  const sources = useConsoleState((s) => s.sources);
  const timeline = useConsoleState((s) => s.timeline);
  const paused = useConsoleState((s) => s.paused);
  const pausedAt = useConsoleState((s) => s.pausedAt);
  const mode = useConsoleState((s) => s.mode);
  const view = useConsoleState((s) => s.view);
  const selected = useConsoleState((s) => s.selected);
  const filter = useConsoleState((s) => s.filter);
  const filterEditing = useConsoleState((s) => s.filterEditing);
  const message = useConsoleState((s) => s.message);
  const leases = asLeasesSlot(useConsoleState((s) => s.leases));
  const lastSnapshot = useConsoleState((s) => s.lastSnapshot);
  const unhealthySince = useConsoleState((s) => s.unhealthySince);
  // The operator flows (--write): their screens replace the body and take the keys while up.
  const ops = props.ops ?? null;
  const opsActive = useOpsState(ops, (s) => s.phase.kind !== 'idle');
  const opsNotice = useOpsState(ops, (s) => s.notice);
  const clock = props.clock ?? Date.now;
  // Ticks while a source is in trouble or a replica is unhealthy: both show ages.
  const now = useNow(
    SOURCE_KEYS.some((k) => sourceTrouble(sources[k])) || Object.keys(unhealthySince).length > 0,
    clock,
  );

  // The handler reads the latest props through a ref, so Ink's input
  // subscription is made once rather than on every render.
  const latest = useRef(props);
  latest.current = props;
  const onKey = useCallback(
    (input: string, key: Key) => {
      const p = latest.current;
      if (p.ops?.handleKey(input, key)) return;
      const flows = p.ops;
      const ctx: CommandContext = {
        store: p.store,
        write: p.write,
        refresh: p.refresh,
        onAction: p.onAction ?? (flows ? (action, replica) => flows.start(action, replica) : undefined),
        exportIncident: () =>
          writeIncidentLog(p.store.getState(), p.stateDir, (p.clock ?? Date.now)(), p.sessionLog),
        quit: () => exit(),
      };
      handleKey(input, key, ctx);
    },
    [exit],
  );
  useKeyCommands(onKey);

  const width = columns;
  const visible = visibleReplicas(status, filter);
  const ctx: ViewContext = {
    theme: props.theme,
    now,
    status,
    sources,
    mode,
    paused,
    pausedAt,
    selected: effectiveSelection(status, filter, selected),
    leases,
    lastSnapshot,
    unhealthySince,
  };
  const header = headerLines(ctx, width);
  const footer = footerLine(
    ctx,
    { filter, filterEditing, message, visible: visible.length, total: status?.replicas.length ?? 0 },
    width,
  );
  const budget = Math.max(0, usableRows(rows) - header.length - 1 - (opsNotice ? 1 : 0));
  let body: BodyPlan;
  if (view === 'help') body = planHelp(ctx, width, budget);
  else if (view === 'detail') {
    body = planDetail(
      visible.find((r) => r.name === ctx.selected),
      ctx,
      width,
      budget,
    );
  } else {
    body = planDashboard(
      { groups: zoneGroups(visible), warnings: status?.warnings ?? [], timeline, leases },
      ctx,
      width,
      budget,
    );
  }
  const emptyText = !status
    ? 'waiting for the first observation...'
    : filter
      ? `no replica matches "${filter}" (Esc clears the filter)`
      : 'no replicas found';

  return (
    <Box flexDirection="column" width={width}>
      <Lines lines={header} />
      {opsNotice ? (
        <Lines lines={[[seg(`${props.theme.glyphs.warn} ${opsNotice}`, { role: 'warn', bold: true })]]} />
      ) : null}
      {ops && opsActive ? (
        <OpsScreen controller={ops} width={width} rows={budget} clock={props.clock} />
      ) : body.kind === 'dashboard' ? (
        <>
          <ZoneGrid plan={body.zones} ctx={ctx} width={width} emptyText={emptyText} />
          <Lines lines={[...body.warnings, ...body.leases, ...body.timeline]} />
        </>
      ) : (
        <Lines lines={body.lines} />
      )}
      {/* The dashboard's key hints do not apply on the operation screens, which show their own. */}
      <Lines lines={[ops && opsActive && !message ? [seg('Ctrl-C quit', { role: 'muted' })] : footer]} />
    </Box>
  );
}

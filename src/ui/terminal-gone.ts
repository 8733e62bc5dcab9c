// A terminal that goes away under the program: an ssh session that drops
// sends SIGHUP, and every later write to the terminal fails with EIO (EPIPE
// on a pipe). Unhandled, that write error is an exception that ends the
// process wherever it is, e.g. in the middle of stopping a demo's lab.

/** EIO/EPIPE on these streams calls `gone` (other errors go to `other`); returns a detach. */
export function onTerminalGone(
  streams: readonly NodeJS.EventEmitter[],
  gone: () => void,
  other: (err: Error) => void = () => {},
): () => void {
  const listener = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EIO' || err.code === 'EPIPE') gone();
    else other(err);
  };
  for (const s of streams) s.on('error', listener);
  return () => {
    for (const s of streams) s.off('error', listener);
  };
}

/** Exit status of a program ended by a signal (what a shell reports): 128 + its number. */
export const SIGNAL_EXIT: Readonly<Record<'SIGHUP' | 'SIGINT' | 'SIGTERM', number>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
};

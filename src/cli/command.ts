// The prologue the operator commands share (cleanup, snapshot, recover, the
// operations): flags parsed, --help answered, no positional arguments, the
// target resolved and the operations session opened. A target the session
// cannot use is bad usage (exit 2), not a failure.
import type { ParseArgsConfig } from 'node:util';
import { type OpsSession, type OpsSessionOptions, OpsTargetError, openOpsSession } from '../ops/session.js';
import type { Target } from '../sources/target.js';
import { resolveTargetAsync, type TargetValues } from './target-flags.js';
import { parseFlags, UsageError } from './usage.js';

export function noArguments(command: string, positionals: string[]): void {
  if (positionals.length)
    throw new UsageError(`${command} takes no arguments (got ${positionals.join(' ')})`);
}

/** A command's flag values; null once --help has printed its help. */
export function parseCommand<const O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  argv: string[],
  options: O,
  help: string,
  out: NodeJS.WritableStream,
): ReturnType<typeof parseFlags<O>>['values'] | null {
  const { values, positionals } = parseFlags(argv, options);
  if ((values as { help?: unknown }).help) {
    out.write(help);
    return null;
  }
  noArguments(command, positionals);
  return values;
}

export async function openCommandSession(target: Target, o: OpsSessionOptions): Promise<OpsSession> {
  try {
    return await openOpsSession(target, o);
  } catch (e) {
    if (e instanceof OpsTargetError) throw new UsageError(e.message);
    throw e;
  }
}

/** The target the flags and environment name, and a session on it for `tool`. */
export async function targetSession(
  values: TargetValues,
  env: NodeJS.ProcessEnv,
  tool: string,
): Promise<{ target: Target; session: OpsSession }> {
  const target = await resolveTargetAsync(values, env);
  return { target, session: await openCommandSession(target, { tool }) };
}

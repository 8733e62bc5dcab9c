// Routes keypresses to a handler; off when the input cannot be put in raw mode
// (not a terminal), where Ink would otherwise throw.
import { type Key, useInput, useStdin } from 'ink';

export function useKeyCommands(handler: (input: string, key: Key) => void): void {
  const { isRawModeSupported } = useStdin();
  useInput(handler, { isActive: isRawModeSupported });
}

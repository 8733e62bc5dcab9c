// One question on the terminal for the confirmations of the operator flows;
// null without a terminal (scripts must pass --yes or --confirm instead).
import { createInterface } from 'node:readline/promises';

export async function ask(question: string): Promise<string | null> {
  if (!process.stdin.isTTY) return null;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

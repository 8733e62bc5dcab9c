// Renders pre-fitted lines: one Text per line, truncating as a last guard so
// that a line can never wrap into the next. The header, panels, detail, help
// and footer are all such lines, planned by src/ui/layout.ts for the terminal.
import { Box, Text } from 'ink';
import { useConsoleContext } from '../contexts/ConsoleContext.js';
import type { Line } from '../text.js';

export function Lines(props: { lines: Line[] }) {
  const { theme } = useConsoleContext();
  if (props.lines.length === 0) return null;
  return (
    <Box flexDirection="column">
      {props.lines.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines have no identity beyond their position
        <Text key={i} wrap="truncate-end">
          {line.length === 0
            ? ' '
            : line.map((s, j) => (
                <Text
                  // biome-ignore lint/suspicious/noArrayIndexKey: segments have no identity beyond their position
                  key={j}
                  color={s.role ? theme.colors[s.role] : undefined}
                  bold={s.bold}
                  inverse={s.inverse}
                  dimColor={s.dim}
                >
                  {s.text}
                </Text>
              ))}
        </Text>
      ))}
    </Box>
  );
}

// A clock that ticks only while `active`: ages on screen need it, and an
// unchanged screen must not be redrawn every second for nothing.
import { useEffect, useState } from 'react';

export function useNow(active: boolean, clock: () => number, intervalMs = 1000): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setTick((n) => n + 1), intervalMs);
    return () => clearInterval(t);
  }, [active, intervalMs]);
  return clock();
}

// The run's housekeeping: timestamped log lines, timeouts, and the cleanup steps that undo what
// the run started (servers, child processes, connections, scratch files), run last-in first-out
// when the run ends, fails, is interrupted or outlives its watchdog.

export const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const cleanups: { name: string; run: () => Promise<void> }[] = [];
let cleaningUp: Promise<void> | undefined;

/** Registers a cleanup step; returns its removal (for a step whose work ended on its own). */
export function track(name: string, run: () => Promise<void>): () => void {
  const step = { name, run };
  cleanups.push(step);
  return () => {
    const index = cleanups.indexOf(step);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

/** Runs every registered step once, newest first, each bounded to 30 s; later calls share the first. */
export function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    while (cleanups.length > 0) {
      const step = cleanups.pop()!;
      try {
        await withTimeout(step.run(), 30_000, `cleanup: ${step.name}`);
      } catch (error) {
        console.error(`cleanup of ${step.name} failed:`, error instanceof Error ? error.message : error);
      }
    }
  })();
  return cleaningUp;
}

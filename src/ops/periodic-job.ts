// A job that runs a pass every interval on each instance (hold expiry, webhook retention): one
// pass at a time, the next scheduled only after the last ended, an unreachable database one
// warning per outage (not one per interval), and a stop that waits for the pass running.
import { isDatabaseUnavailable } from "../db/unavailable.js";
import { errorText, outageLog, type Logger } from "./log.js";

export interface PeriodicJob {
  /** Runs one pass now (or joins the one running); answers what it reports (rows it handled). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startPeriodicJob(options: {
  logger: Logger;
  /** What the job does, for its log lines ("releasing expired holds"). */
  what: string;
  intervalMs: number;
  /** One pass; `stopped()` turns true once a stop was asked (a long pass may end early). */
  pass: (stopped: () => boolean) => Promise<number>;
  /** After each pass that succeeded, with what it answered. */
  done?: (count: number) => void;
}): PeriodicJob {
  const { logger, what } = options;
  const outage = outageLog(logger, what);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let stopped = false;

  function runOnce(): Promise<number> {
    running ??= options
      .pass(() => stopped)
      .finally(() => {
        running = null;
      });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .then(
          (count) => {
            options.done?.(count);
            outage.succeeded();
          },
          (error: unknown) => {
            if (stopped) return;
            if (isDatabaseUnavailable(error)) outage.failed(error);
            else logger.error({ err: errorText(error) }, `${what} failed`);
          },
        )
        .finally(schedule);
    }, options.intervalMs);
    timer.unref();
  }
  schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => 0);
    },
  };
}

// SIGTERM/SIGINT (and SIGHUP, a closed terminal): the first starts a graceful stop, a second
// forces the exit. Nothing else in the process may call process.exit on a signal.
import { log } from "./log.js";

const signals = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
const exitCodes: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
/**
 * Wrappers deliver one Ctrl-C twice (the terminal signals the whole group, and npm or tsx pass
 * it on): a repeat this soon is the same request, not a second one.
 */
const repeatIgnoredMs = 500;

export function onStopSignals(graceful: (signal: string) => void, forced: (signal: string, exitCode: number) => void): void {
  let receivedAt: number | null = null;
  for (const signal of signals) {
    process.on(signal, () => {
      if (receivedAt === null) {
        receivedAt = Date.now();
        log.info({ signal }, `${signal}: draining (send it again to stop at once)`);
        return graceful(signal);
      }
      if (Date.now() - receivedAt < repeatIgnoredMs) return;
      log.warn({ signal }, `${signal} again: stopping without waiting`);
      forced(signal, exitCodes[signal] ?? 1);
    });
  }
}

// Deadlocks and serialization failures are retried here and never reach a client.
import { recordWriteRetry } from "../ops/metrics.js";

const retryReasons: Record<string, string> = { "40P01": "deadlock", "40001": "serialization_failure" };

export const attemptsMax = 8;

/** The retry reason of a deadlock or serialization failure; undefined for anything else. */
function retryReason(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  // Prisma wraps driver errors; the original SQLSTATE sits in `meta` or `cause`.
  const nested = (error as { cause?: { code?: unknown }; meta?: { code?: unknown } } | null);
  const found = [code, nested?.cause?.code, nested?.meta?.code].find((c) => typeof c === "string" && c in retryReasons);
  return found === undefined ? undefined : retryReasons[found as string];
}

export async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const reason = retryReason(error);
      if (reason === undefined || attempt >= attemptsMax) throw error;
      recordWriteRetry(reason);
      // Jittered backoff so the same transactions do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** attempt));
    }
  }
}

// Deadlocks and serialization failures are retried here and never reach a client.
const retryableCodes = new Set(["40P01", "40001"]);

export const attemptsMax = 8;

function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // Prisma wraps driver errors; the original SQLSTATE sits in `meta` or `cause`.
  const nested = (error as { cause?: { code?: unknown }; meta?: { code?: unknown } } | null);
  return [code, nested?.cause?.code, nested?.meta?.code].some((c) => typeof c === "string" && retryableCodes.has(c));
}

export async function withRetry<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetryable(error) || attempt >= attemptsMax) throw error;
      // Jittered backoff so the same transactions do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 ** attempt));
    }
  }
}

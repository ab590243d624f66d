// Tells "PostgreSQL cannot be reached right now" apart from every other failure, through the
// wrappers in between (Prisma's errors and driver-adapter causes, GraphQL's originalError), so
// clients get a typed, retryable DATABASE_UNAVAILABLE instead of an internal error.

/** Socket-level failures of reaching the server. */
const networkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
/** SQLSTATEs of a server that is stopping, starting or full: 57P01..03 and 53300; class 08 is checked by prefix. */
const serverStates = new Set(["57P01", "57P02", "57P03", "53300"]);
/** Prisma: can't reach, timed out, closed the connection, pool timeout. */
const prismaCodes = new Set(["P1001", "P1002", "P1017", "P2024"]);
/** Prisma driver-adapter error kinds that mean the same. */
const adapterKinds = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
/** pg's own messages for a connection that went away (they carry no code). */
const lostConnection =
  /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|Connection ended/i;

/** Retry-After sent with DATABASE_UNAVAILABLE answers, in seconds. */
export const retryAfterSeconds = 1;

export const databaseUnavailableMessage =
  "the database is unavailable; retry shortly (a write answered with an error may have committed: retry it with the same idempotencyKey)";

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 6) return false;
  const e = error as {
    code?: unknown;
    kind?: unknown;
    originalCode?: unknown;
    message?: unknown;
    name?: unknown;
    cause?: unknown;
    originalError?: unknown;
    meta?: { driverAdapterError?: { cause?: unknown } };
  };
  const code = typeof e.code === "string" ? e.code : typeof e.originalCode === "string" ? e.originalCode : "";
  if (networkCodes.has(code) || serverStates.has(code) || code.startsWith("08") || prismaCodes.has(code)) return true;
  if (typeof e.kind === "string" && adapterKinds.has(e.kind)) return true;
  if (e.name === "PrismaClientInitializationError") return true;
  if (typeof e.message === "string" && lostConnection.test(e.message) && !e.message.includes("\n")) return true;
  return [e.cause, e.originalError, e.meta?.driverAdapterError?.cause, e.meta?.driverAdapterError].some(
    (inner) => inner !== undefined && inner !== error && isDatabaseUnavailable(inner, depth + 1),
  );
}

// The service's one logger (pino). JSON lines in production (LOG_FORMAT=json), readable lines in
// development (LOG_FORMAT=pretty, through pino-pretty when it is installed: a dev dependency).
// Never log a key, a token or a request body: the redaction below is only a safety net.
import { createRequire } from "node:module";
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function prettyStream(): DestinationStream | null {
  try {
    const pretty = createRequire(import.meta.url)("pino-pretty") as (options: object) => DestinationStream;
    return pretty({ colorize: process.stdout.isTTY === true, sync: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" });
  } catch {
    return null; // not installed (production image): pino's own JSON lines
  }
}

/**
 * Why LOG_LEVEL or LOG_FORMAT cannot be used, or null. The logger is made when this module is
 * loaded, before the settings are read: it takes the default for a value it cannot use, and
 * loadConfig refuses to start with this message (one fatal line, exit code 1).
 */
export function logSettingProblem(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.LOG_LEVEL && !levels.includes(env.LOG_LEVEL)) return `LOG_LEVEL must be one of ${levels.join(", ")}, got "${env.LOG_LEVEL}"`;
  if (env.LOG_FORMAT && env.LOG_FORMAT !== "json" && env.LOG_FORMAT !== "pretty")
    return `LOG_FORMAT must be json or pretty, got "${env.LOG_FORMAT}"`;
  return null;
}

export function createLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  const level = env.LOG_LEVEL && levels.includes(env.LOG_LEVEL) ? env.LOG_LEVEL : "info";
  const format =
    env.LOG_FORMAT === "json" || env.LOG_FORMAT === "pretty" ? env.LOG_FORMAT : env.NODE_ENV === "production" ? "json" : "pretty";
  const destination = (format === "pretty" && prettyStream()) || pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ["authorization", "*.authorization", "key", "*.key", "token", "*.token", "password"], censor: "[redacted]" },
    },
    destination,
  );
}

/** The process's logger; modules take a child with their `component`. */
export const log: Logger = createLogger();

/** The short text of an error for a log line (no stack: expected failures stay one line). */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/**
 * Logs a repeating failure once, then its recovery once: a database outage is one warning per
 * component, not one line per retry.
 */
export function outageLog(logger: Logger, what: string) {
  let failing = false;
  return {
    failed(error: unknown): void {
      if (failing) {
        logger.debug({ err: errorText(error) }, `${what} still failing`);
        return;
      }
      failing = true;
      logger.warn({ err: errorText(error) }, `${what} failed; retrying`);
    },
    succeeded(): void {
      if (!failing) return;
      failing = false;
      logger.info(`${what} works again`);
    },
  };
}

// A start that cannot go on: one line for what the operator can fix (a setting out of its range,
// a port in use, a folder the embedded server cannot reach), the whole error for anything else.
import { ConfigError } from "../config.js";
import { EmbeddedPostgresError } from "../db/embedded.js";
import { ListenError } from "../http/server.js";
import { log } from "./log.js";

export function startupFailure(error: unknown): void {
  if (error instanceof ConfigError || error instanceof ListenError || error instanceof EmbeddedPostgresError) log.fatal(error.message);
  else log.fatal({ err: error }, `could not start: ${error instanceof Error ? error.message : String(error)}`);
}

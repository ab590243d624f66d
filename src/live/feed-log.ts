// The change feed's log lines: an unreachable database is one warning per outage (the feed
// retries on its own and loses nothing); anything else is an error.
import { isDatabaseUnavailable } from "../db/unavailable.js";
import { errorText, log, outageLog } from "../ops/log.js";

const logger = log.child({ component: "change feed" });
const outage = outageLog(logger, "change feed");

function report(what: string, error: Error): void {
  if (isDatabaseUnavailable(error)) outage.failed(error);
  else logger.error({ err: errorText(error) }, what);
}

export const feedLog = {
  connectionLost: (error: Error) => report("connection error", error),
  lookFailed: (error: Error) => report("look failed", error),
  notifyFailed: (error: Error) => report("NOTIFY failed", error),
  /** A look succeeded: an outage, if any, is over. */
  recovered: () => outage.succeeded(),
};

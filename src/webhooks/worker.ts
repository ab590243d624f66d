// The webhook worker of one instance, run in its webhook thread (thread.ts): the materializer
// (events and deliveries from committed changes; one instance at a time does that work), the
// dispatcher (attempts; every instance shares them) and, with a retention set, the pruner of
// delivered deliveries and old events. A commit on this instance wakes the materializer, new deliveries the dispatcher.
import pg from "pg";
import { endsWhenClosed } from "../db/pool-end.js";
import { errorText, log, outageLog } from "../ops/log.js";
import { webhookEvents } from "../ops/metrics.js";
import { bodyCache } from "./bodies.js";
import { startDispatcher, type Dispatcher } from "./dispatcher.js";
import { startMaterializer, type Materializer } from "./materializer.js";
import { retains, startPruner } from "./retention.js";
import type { WebhookSettings } from "./settings.js";

const logger = log.child({ component: "webhooks" });

/** Bodies of the events made lately kept for sending (about 1 KB each): some seconds of a busy ledger. */
const bodyCacheSizeMax = 10_000;

export interface WebhookWorker {
  materializer: Materializer;
  dispatcher: Dispatcher;
  /** Stops making events and claiming; waits for the attempts in flight to be recorded. */
  stop(): Promise<void>;
}

export function startWebhookWorker(connectionString: string, settings: WebhookSettings, key: Buffer): WebhookWorker {
  const bodies = bodyCache(bodyCacheSizeMax);
  const dispatcher = startDispatcher(connectionString, settings, key, bodies);
  // Nothing is lost while passes fail: the position did not move; the next poll reads the same changes.
  const outage = outageLog(logger, "making webhook events");
  const materializer = startMaterializer({
    connectionString,
    pollIntervalMs: settings.pollIntervalMs,
    batchWindowMs: settings.batchWindowMs,
    entriesPerPassMax: settings.entriesPerPassMax,
    bodies,
    onDeliveries: () => dispatcher.wake(),
    onPass(outcome) {
      if (outcome instanceof Error) return outage.failed(outcome);
      outage.succeeded();
      if (outcome.events > 0) webhookEvents.inc({ kind: "event" }, outcome.events);
      if (outcome.deliveries > 0) webhookEvents.inc({ kind: "delivery" }, outcome.deliveries);
    },
  });
  const prunerPool = retains(settings) ? new pg.Pool({ connectionString, max: 1, application_name: "ledger-webhook-pruner" }) : null;
  prunerPool?.on("error", (error) => logger.warn({ err: errorText(error) }, "webhook pruner connection error"));
  const pruner = prunerPool && startPruner(prunerPool, settings, settings.pruneIntervalMs);
  return {
    materializer,
    dispatcher,
    async stop() {
      await pruner?.stop();
      if (prunerPool) await endsWhenClosed(prunerPool)();
      await materializer.stop();
      await dispatcher.stop();
    },
  };
}

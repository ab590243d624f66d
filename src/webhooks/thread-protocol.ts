// Messages between the service's main thread and its webhook thread (thread.ts, thread-main.ts).
import type { RegistryJson } from "../ops/metrics.js";
import type { WebhookSettings } from "./settings.js";

/** What the thread starts with (structured-cloned). */
export interface WebhookThreadData {
  connectionString: string;
  settings: WebhookSettings;
  key: Uint8Array;
}

/** Requests the main thread makes, and what each answers. */
export interface ThreadAnswers {
  /** Materializer passes until nothing is left (tests). */
  drain: null;
  /** The dispatcher's counters (tests). */
  dispatcher: { inFlight: number; attemptsSent: number };
  /** The thread's registry, its queue gauges read now. */
  metrics: RegistryJson;
  /** Stops making events and claiming, waits for the attempts in flight to be recorded; the thread then ends. Its dispatcher's last counters. */
  stop: { inFlight: number; attemptsSent: number };
}

export type ToThread = { type: "written" } | { type: "request"; id: number; request: keyof ThreadAnswers };

export type FromThread =
  | { type: "ready" }
  | { type: "answer"; id: number; value: unknown }
  | { type: "failed"; id: number; message: string };

// The webhook worker's settings (LEDGER_WEBHOOK_*; every one is listed in the README).
import { retryScheduleDefault } from "./backoff.js";

export interface WebhookSettings {
  /** Run the materializer and dispatcher in this instance. */
  enabled: boolean;
  /** Deliver to loopback, private, link-local and metadata addresses (local development, tests). */
  allowPrivateUrls: boolean;
  send: { connectTimeoutMs: number; totalTimeoutMs: number; responseBytesMax: number; allowPrivate: boolean };
  /** Exponential backoff with jitter; a delivery is FAILED once the horizon has passed. */
  retry: { baseMs: number; maxMs: number; horizonMs: number };
  /** Consecutive failures that open an endpoint's breaker, and how long it stays open before a probe. */
  breakerFailuresMax: number;
  breakerCooldownMs: number;
  /** Attempts in flight per endpoint (over every instance), and per instance in all. */
  concurrencyPerEndpointMax: number;
  inFlightMax: number;
  /** How long a claimed delivery stays with its instance (longer than an attempt can take). */
  leaseMs: number;
  /** How often the materializer and the dispatcher look (they are also woken by commits). */
  pollIntervalMs: number;
  /**
   * Shortest time between two passes of the materializer: commits closer together are read by
   * one pass. Each pass costs its transaction whatever it reads, so under load fewer, larger
   * passes cost the writes less (docs/benchmarks.md); an event waits at most this long for its pass.
   */
  batchWindowMs: number;
  entriesPerPassMax: number;
  /** How long a DELIVERED delivery is kept after its success (0: kept for ever), and how often the worker deletes older ones. */
  deliveredRetentionMs: number;
  /**
   * How long an event is kept after its change (0: for ever); older ones are deleted with every
   * delivery made before then (retention.ts). Longer than the retry horizon, so no delivery's
   * first round of retries is cut short.
   */
  eventRetentionMs: number;
  pruneIntervalMs: number;
  /** Grace period of the previous secret after rotateWebhookSecret, unless the call names one. */
  rotationGraceSecondsDefault: number;
  /** Key material that encrypts signing secrets at rest; null: a key the service keeps in the database. */
  encryptionKey: string | null;
}

/** The longest grace period of a rotated-out secret, for rotateWebhookSecret and its default alike. */
export const rotationGraceSecondsMax = 7 * 24 * 3600;

export type WebhookSettingsOverrides = Partial<Omit<WebhookSettings, "send">> & { send?: Partial<WebhookSettings["send"]> };

/** The defaults with `overrides` (the senders' allowPrivate always follows allowPrivateUrls). */
export function webhookSettingsOf(overrides: WebhookSettingsOverrides = {}): WebhookSettings {
  const allowPrivateUrls = overrides.allowPrivateUrls ?? false;
  const send = {
    connectTimeoutMs: 5_000,
    totalTimeoutMs: 15_000,
    responseBytesMax: 4_096,
    ...overrides.send,
    allowPrivate: allowPrivateUrls,
  };
  return {
    enabled: true,
    retry: retryScheduleDefault,
    breakerFailuresMax: 10,
    breakerCooldownMs: 60_000,
    concurrencyPerEndpointMax: 16,
    inFlightMax: 64,
    leaseMs: send.totalTimeoutMs + 30_000,
    pollIntervalMs: 500,
    batchWindowMs: 100,
    entriesPerPassMax: 5_000,
    deliveredRetentionMs: 0,
    eventRetentionMs: 0,
    pruneIntervalMs: 60_000,
    rotationGraceSecondsDefault: 24 * 3600,
    encryptionKey: null,
    ...overrides,
    allowPrivateUrls,
    send,
  };
}

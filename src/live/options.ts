// Settings of the live path (change feed and WebSocket server); README lists their variables.
import { feedOptionsDefault, type FeedOptions } from "./feed.js";

export interface LiveOptions extends Omit<FeedOptions, "connectionString"> {
  /** How long a connection may stay without connection_init (then 4408). */
  connectionInitWaitTimeoutMs: number;
  /** How often open connections' keys are checked again (revocation). */
  authRecheckMs: number;
  /** A socket that has not drained for this long is closed as a slow consumer (4029). */
  slowConsumerMs: number;
}

export const liveOptionsDefault: LiveOptions = {
  ...feedOptionsDefault,
  connectionInitWaitTimeoutMs: 3000,
  authRecheckMs: 2000,
  slowConsumerMs: 10_000,
};

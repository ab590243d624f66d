// Per-key rate limits (rate-limiter-flexible): mutations and new WebSocket connections, counted
// per API key (an access token counts against the key that minted it). In cluster mode the
// workers share one count through the primary (RateLimiterCluster), so the limit is per service
// process group, not per worker. 0 turns a limit off.
import cluster from "node:cluster";
import { RateLimiterCluster, RateLimiterClusterMaster, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { HeaderMap } from "@apollo/server";
import { graphqlCjs } from "../graphql/graphql-cjs.js";
import { errorText, log } from "./log.js";
import { rateLimited } from "./metrics.js";

export interface RateLimiter {
  readonly perSecond: number;
  /** null: allowed; otherwise how long until `points` more would be. */
  consume(keyId: string, points?: number): Promise<{ retryAfterMs: number } | null>;
}

/** In the cluster primary: the shared store the workers' limiters talk to. */
export function startRateLimitStore(): void {
  new RateLimiterClusterMaster();
}

export function createRateLimiter(name: string, perSecond: number): RateLimiter | null {
  if (perSecond <= 0) return null;
  const options = { keyPrefix: name, points: perSecond, duration: 1 };
  const limiter = cluster.isWorker ? new RateLimiterCluster({ ...options, timeoutMs: 1000 }) : new RateLimiterMemory(options);
  return {
    perSecond,
    async consume(keyId, points = 1) {
      try {
        await limiter.consume(keyId, points);
        return null;
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          rateLimited.inc({ kind: name });
          return { retryAfterMs: error.msBeforeNext };
        }
        // The shared store did not answer: let the request through rather than fail it.
        log.warn({ component: "rate limit", err: errorText(error) }, `${name} rate limit not checked`);
        return null;
      }
    },
  };
}

/** RATE_LIMITED: HTTP 429 with Retry-After (whole seconds, at least 1). */
export function rateLimitedError(what: string, perSecond: number, retryAfterMs: number) {
  const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new graphqlCjs.GraphQLError(
    `too many ${what} for this API key (at most ${perSecond} per second); retry after ${retryAfterSeconds} s`,
    {
      extensions: {
        code: "RATE_LIMITED",
        retryAfterSeconds,
        http: { status: 429, headers: new HeaderMap([["retry-after", String(retryAfterSeconds)]]) },
      },
    },
  );
}

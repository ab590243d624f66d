import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import type { Limits } from "../domain/limits.js";
import { tenantNow } from "../ledger/balances.js";
import type { LiveHub } from "../live/hub.js";
import type { LiveConnection } from "../live/live-connection.js";
import type { WebhookContext } from "../webhooks/endpoints.js";
import { createLoaders, type Loaders } from "./loaders.js";

/** Per request (HTTP) or per operation (WebSocket): the tenant and DataLoaders that never cross tenants. */
export interface Context {
  tenantId: string;
  /** What the bearer may do: an API key, or an access token's scope, accounts and expiry. */
  access: Access;
  db: Database;
  limits: Limits;
  loaders: Loaders;
  /** The tenant's clock, read once per request (holds' status is judged by it). */
  now(): Promise<Date>;
  /** Live events of this instance; null where subscriptions are not served. */
  live: LiveHub | null;
  /** The WebSocket connection an operation runs on; null over HTTP. */
  connection: LiveConnection | null;
  /** Signs access tokens (createAccessToken); null where tokens are not minted. */
  tokenSecret: Buffer | null;
  /** Webhook endpoint calls: settings, limits and the key that encrypts secrets; null where not served. */
  webhooks: WebhookContext | null;
  /** Forgets what this context has read: each subscription event is resolved afresh. */
  refresh(): void;
}

export interface ContextOptions {
  tokenSecret?: Buffer | null;
  webhooks?: WebhookContext | null;
  live?: LiveHub | null;
  connection?: LiveConnection | null;
}

export function createContext(db: Database, access: Access, limits: Limits, options: ContextOptions = {}): Context {
  const { tenantId } = access;
  let now: Promise<Date> | null = null;
  // Made on first use: most subscription events resolve without them.
  let loaders: Loaders | null = null;
  return {
    tenantId,
    access,
    db,
    limits,
    get loaders() {
      loaders ??= createLoaders(db, tenantId);
      return loaders;
    },
    now: () => {
      now ??= tenantNow(db, tenantId);
      return now;
    },
    live: options.live ?? null,
    connection: options.connection ?? null,
    tokenSecret: options.tokenSecret ?? null,
    webhooks: options.webhooks ?? null,
    refresh() {
      loaders = null;
      now = null;
    },
  };
}

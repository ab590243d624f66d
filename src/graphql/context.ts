import type { Database } from "../db/client.js";
import type { Limits } from "../domain/limits.js";
import { tenantNow } from "../ledger/balances.js";
import { createLoaders, type Loaders } from "./loaders.js";

/** Per request: the authenticated tenant and DataLoaders that never cross tenants. */
export interface Context {
  tenantId: string;
  db: Database;
  limits: Limits;
  loaders: Loaders;
  /** The tenant's clock, read once per request (holds' status is judged by it). */
  now(): Promise<Date>;
}

export function createContext(db: Database, tenantId: string, limits: Limits): Context {
  let now: Promise<Date> | null = null;
  return {
    tenantId,
    db,
    limits,
    loaders: createLoaders(db.prisma, tenantId),
    now: () => (now ??= tenantNow(db.pool, tenantId)),
  };
}

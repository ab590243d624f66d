import type { Database } from "../db/client.js";
import type { Limits } from "../domain/limits.js";
import type { Loaders } from "./loaders.js";

/** Per request: the authenticated tenant and DataLoaders that never cross tenants. */
export interface Context {
  tenantId: string;
  db: Database;
  limits: Limits;
  loaders: Loaders;
}

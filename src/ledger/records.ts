// Rows as the service hands them to the API layer: Prisma's model types.
export type { Account, ApiKey, Currency, Entry, Hold, Tenant, Transfer } from "../generated/prisma/client.js";
import type { Entry, Transfer } from "../generated/prisma/client.js";

/** A transfer with its entries, as the posting function returns it. */
export interface TransferWithEntries extends Transfer {
  entries: Entry[];
}

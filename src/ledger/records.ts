// Rows as the service hands them to the API layer: Prisma's model types.
export type { Account, ApiKey, Currency, Hold, Tenant, Transfer } from "../generated/prisma/client.js";
import type { Entry as EntryRow, Transfer } from "../generated/prisma/client.js";

/** An entry; the id of the transaction that wrote it is the change feed's business alone. */
export type Entry = Omit<EntryRow, "txId">;

/** A transfer with its entries, as the posting function returns it. */
export interface TransferWithEntries extends Transfer {
  entries: Entry[];
}

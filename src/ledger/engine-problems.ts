// The engine's rejections as the API words them.
import { toGlobalId } from "../domain/ids.js";
import { parseInstant } from "../domain/instant.js";
import { withMessage, type Problem } from "../domain/problems.js";

/** A rejection as the engine reports it: no message, raw uuids, an account named as given. */
export interface ItemError {
  code: string;
  accountRef?: { accountId?: string; accountCode?: string };
  [detail: string]: unknown;
}

const globalIdFields = { accountId: "Account", holdId: "Hold", transferId: "Transfer" } as const;

/**
 * A rejection from the database as the API words it: objects by global id (account codes stay
 * as given), instants as dates, with a message.
 */
export function publicProblem(error: ItemError): Problem {
  const { accountRef, ...named } = error;
  for (const [field, type] of Object.entries(globalIdFields)) {
    if (typeof named[field] === "string") named[field] = toGlobalId(type, named[field] as string);
  }
  if (accountRef) named.account = accountRef.accountId ? toGlobalId("Account", accountRef.accountId) : accountRef.accountCode;
  if (named.code === "TransferNotFound" && typeof named.holdId === "string") {
    named.transferId = named.holdId; // an unknown hold id, echoed as given
    delete named.holdId;
  }
  if (named.code === "NotReversible") {
    named.id = named.holdId ?? named.transferId;
    delete named.holdId;
    delete named.transferId;
  }
  if (typeof named.expiresAt === "string") named.expiresAt = parseInstant(named.expiresAt);
  return withMessage(named);
}

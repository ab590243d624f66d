// Checks of a balanceChanged subscription's arguments, before and after its accounts are read.
import { fromGlobalId } from "./ids.js";
import type { AmountInput } from "./money.js";
import { accountNotFound, fail, invalidInput, limitExceeded, ok, type Result } from "./problems.js";

/** A version as text: no sign, no leading zero (one spelling per number, as for amounts). */
const versionPattern = /^(0|[1-9]\d{0,18})$/;

export interface BalanceWatch {
  /** Raw account ids, in the order given. */
  accountIds: string[];
  /** Per account, the last version the client has; null: start from the current version. */
  afterVersions: bigint[] | null;
}

export function checkBalanceWatch(
  globalIds: string[],
  afterVersions: AmountInput[] | null | undefined,
  accountsMax: number,
): Result<BalanceWatch> {
  if (globalIds.length === 0) return fail(invalidInput("accountIds", "EMPTY", "name at least one account"));
  if (globalIds.length > accountsMax) return fail(limitExceeded("subscriptionAccountsMax", accountsMax, "number of accounts"));
  if (new Set(globalIds).size !== globalIds.length)
    return fail(invalidInput("accountIds", "DUPLICATE_ACCOUNT", "an account is named twice"));
  const accountIds: string[] = [];
  for (const globalId of globalIds) {
    const id = fromGlobalId("Account", globalId);
    // A malformed id is answered like an unknown one: nothing to learn from the difference.
    if (id === null) return fail(accountNotFound(globalId));
    accountIds.push(id);
  }
  if (afterVersions === null || afterVersions === undefined) return ok({ accountIds, afterVersions: null });
  if (afterVersions.length !== globalIds.length) {
    return fail(
      invalidInput("afterVersion", "AFTER_VERSION", `give one version per account (${globalIds.length}), got ${afterVersions.length}`),
    );
  }
  const versions: bigint[] = [];
  for (const text of afterVersions) {
    if (typeof text !== "string") {
      return fail(invalidInput("afterVersion", "AFTER_VERSION", `send versions as JSON strings, e.g. "12" (got ${text.sent})`));
    }
    if (!versionPattern.test(text) || BigInt(text) > 2n ** 63n - 1n) {
      return fail(invalidInput("afterVersion", "AFTER_VERSION", `"${text}" is not a version (a non-negative integer)`));
    }
    versions.push(BigInt(text));
  }
  return ok({ accountIds, afterVersions: versions });
}

/** A version the account has not reached yet cannot be resumed from: the client is confused. */
export function checkAfterVersion(globalId: string, afterVersion: bigint, currentVersion: bigint): Result<void> {
  if (afterVersion <= currentVersion) return ok(undefined);
  return fail(invalidInput("afterVersion", "AFTER_VERSION", `${globalId} is at version ${currentVersion}, before ${afterVersion}`));
}

/**
 * Where a tenant-wide subscription (transferPosted, holdChanged) starts: a database snapshot
 * taken once the subscription is registered, before it is handed to the client. Events of the
 * transactions it already sees committed before the subscription started and are not sent; every
 * later one is (the subscription was registered before the snapshot, so none is missed).
 */
export interface FeedStart {
  xmax: bigint;
  inProgress: ReadonlySet<bigint>;
}

export const committedBefore = (start: FeedStart, txId: bigint): boolean => txId < start.xmax && !start.inProgress.has(txId);

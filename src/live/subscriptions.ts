// The subscriptions' service functions: check the arguments against the tenant and the limits,
// then hand back the stream. Refusals are problems, mapped to BAD_USER_INPUT by the resolvers.
import { fromGlobalId } from "../domain/ids.js";
import type { Limits } from "../domain/limits.js";
import type { AmountInput } from "../domain/money.js";
import { checkCharacters, checkJsonValue } from "../domain/text.js";
import { checkAfterVersion, checkBalanceWatch } from "../domain/live-watch.js";
import { accountNotFound, currencyNotFound, fail, holdNotFound, ok, type Result } from "../domain/problems.js";
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import { AccessDenied, globalAccountVisible } from "../ledger/authorization.js";
import type { HoldChange } from "./events.js";
import { findCurrency } from "../ledger/currencies.js";
import { readAccounts, readHolds } from "../ledger/reads.js";
import type { Transfer } from "../ledger/records.js";
import type { EventChannel } from "./event-channel.js";
import type { BalanceStream } from "./balance-stream.js";
import type { HoldWatch, LiveHub, Subscriber, TransferWatch } from "./hub.js";

export async function subscribeBalanceChanges(
  hub: LiveHub,
  access: Access,
  limits: Limits,
  subscriber: Subscriber,
  globalIds: string[],
  afterVersions: AmountInput[] | null | undefined,
): Promise<Result<BalanceStream>> {
  // An account the bearer may not see answers like an unknown one.
  const hidden = globalIds.find((id) => !globalAccountVisible(access, id));
  if (hidden !== undefined) return fail(accountNotFound(hidden));
  const checked = checkBalanceWatch(globalIds, afterVersions, limits.subscriptionAccountsMax);
  if (!checked.ok) return checked;
  const { accountIds } = checked.value;
  const { stream, accounts } = await hub.watchBalances(access.tenantId, accountIds, subscriber);
  const missing = accountIds.findIndex((id) => !accounts.has(id));
  if (missing >= 0) {
    await stream.return();
    return fail(accountNotFound(globalIds[missing]!));
  }
  const watched = [];
  for (const [index, id] of accountIds.entries()) {
    const { normalSide, version } = accounts.get(id)!;
    const afterVersion = checked.value.afterVersions?.[index] ?? version;
    const resumable = checkAfterVersion(globalIds[index]!, afterVersion, version);
    if (!resumable.ok) {
      await stream.return();
      return resumable;
    }
    watched.push({ id, normalSide, afterVersion, currentVersion: version });
  }
  stream.start(watched);
  return ok(stream);
}

export interface TransferWatchInput {
  accountId?: string | null;
  currency?: string | null;
  metadata?: Record<string, unknown> | null;
}

/** The account, if it is this tenant's: an unknown id and another tenant's are alike. */
async function tenantAccount(db: Database, tenantId: string, globalId: string): Promise<string | null> {
  const id = fromGlobalId("Account", globalId);
  if (id === null) return null;
  return (await readAccounts(db, tenantId, [id]))[0]?.id ?? null;
}

/**
 * A token limited to accounts watches transfers and holds of one of them, named in the filter
 * (AccessDenied without one); an account it may not see answers like an unknown one.
 */
function checkFilterVisible(access: Access, accountId: string | null | undefined, what: string): Result<void> {
  if (access.accountIds === null) return ok(undefined);
  if (!accountId) throw new AccessDenied(`${what}: an access token limited to accounts must give filter.accountId`);
  return globalAccountVisible(access, accountId) ? ok(undefined) : fail(accountNotFound(accountId));
}

export async function subscribeTransfers(
  hub: LiveHub,
  db: Database,
  access: Access,
  subscriber: Subscriber,
  input: TransferWatchInput | null | undefined,
): Promise<Result<EventChannel<Transfer>>> {
  const visible = checkFilterVisible(access, input?.accountId, "transferPosted");
  if (!visible.ok) return visible;
  const { tenantId } = access;
  const watch: TransferWatch = { accountId: null, currency: input?.currency ?? null, metadata: input?.metadata ?? null };
  if (input?.accountId != null) {
    watch.accountId = await tenantAccount(db, tenantId, input.accountId);
    if (watch.accountId === null) return fail(accountNotFound(input.accountId));
  }
  if (watch.currency !== null) {
    const currency = checkCharacters(watch.currency, "filter.currency", "storable");
    if (!currency.ok) return currency;
  }
  if (watch.metadata !== null) {
    const metadata = checkJsonValue(watch.metadata, "filter.metadata");
    if (!metadata.ok) return metadata;
  }
  if (watch.currency !== null && !(await findCurrency(db, tenantId, watch.currency))) {
    return fail(currencyNotFound(watch.currency));
  }
  return ok(await hub.watchTransfers(tenantId, watch, subscriber));
}

export async function subscribeHoldChanges(
  hub: LiveHub,
  db: Database,
  access: Access,
  subscriber: Subscriber,
  input: { accountId?: string | null; holdId?: string | null } | null | undefined,
): Promise<Result<EventChannel<HoldChange>>> {
  const visible = checkFilterVisible(access, input?.accountId, "holdChanged");
  if (!visible.ok) return visible;
  const { tenantId } = access;
  const watch: HoldWatch = { accountId: null, holdId: null };
  if (input?.accountId != null) {
    watch.accountId = await tenantAccount(db, tenantId, input.accountId);
    if (watch.accountId === null) return fail(accountNotFound(input.accountId));
  }
  if (input?.holdId != null) {
    const id = fromGlobalId("Hold", input.holdId);
    const found = id === null ? null : (await readHolds(db, tenantId, [id]))[0];
    if (!found) return fail(holdNotFound(input.holdId));
    watch.holdId = found.id;
  }
  return ok(await hub.watchHolds(tenantId, watch, subscriber));
}

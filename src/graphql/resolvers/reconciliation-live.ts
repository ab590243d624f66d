// reconciliationChanged: the statement's notices (src/reconciliation/notify.ts) over the live
// hub's NOTIFY listener. A statement the bearer may not see is refused like an unknown one.
import type { Database } from "../../db/client.js";
import type { Access } from "../../domain/access.js";
import { fail, ok, type Result } from "../../domain/problems.js";
import type { EventChannel } from "../../live/event-channel.js";
import type { LiveHub, Subscriber } from "../../live/hub.js";
import { reconciliationChannel, type ReconciliationNotice } from "../../reconciliation/notify.js";
import { findStatement, statementNotFound } from "../../reconciliation/statements.js";
import { statementGlobalId } from "../../reconciliation/ids.js";
import type { Context } from "../context.js";

export async function subscribeReconciliation(
  live: LiveHub,
  db: Database,
  access: Access,
  subscriber: Subscriber,
  statementId: string,
): Promise<Result<EventChannel<string>>> {
  const statement = await findStatement(db, access, statementId);
  if (!statement) return fail(statementNotFound(statementId));
  const matches = (payload: string) => {
    const notice = JSON.parse(payload) as ReconciliationNotice;
    return notice.tenantId === access.tenantId && notice.statementId === statement.id;
  };
  return ok(await live.watchNotices(reconciliationChannel, matches, subscriber));
}

export async function reconciliationChange(payload: string, ctx: Context) {
  const notice = JSON.parse(payload) as ReconciliationNotice;
  const statement = await findStatement(ctx.db, ctx.access, statementGlobalId(notice.statementId));
  return { kind: notice.kind, statement: statement! };
}

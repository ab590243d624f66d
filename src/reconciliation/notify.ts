// Finance screens learn of reconciliation changes (reconciliationChanged) through one NOTIFY
// channel, sent after the change committed; every instance listens (src/live/reconciliation-feed.ts).
import type { Database } from "../db/client.js";

export const reconciliationChannel = "ledger_reconciliation";

export type ReconciliationChangeKind = "RUN_FINISHED" | "EXCEPTION_RESOLVED";

export interface ReconciliationNotice {
  tenantId: string;
  statementId: string;
  kind: ReconciliationChangeKind;
}

export async function notifyReconciliation(
  db: Database,
  tenantId: string,
  statementId: string,
  kind: ReconciliationChangeKind,
): Promise<void> {
  const notice: ReconciliationNotice = { tenantId, statementId, kind };
  await db.pool.query(`SELECT pg_notify('${reconciliationChannel}', $1)`, [JSON.stringify(notice)]);
}

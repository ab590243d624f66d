// Small helpers of the statement pages: a run's status in words, idempotency keys.
import type { ReconciliationRun } from "./operations";

export type RunStatus = "not-run" | "reconciled" | "open" | "unreconciled";

export function runStatus(run: ReconciliationRun | null): { kind: RunStatus; text: string } {
  if (!run) return { kind: "not-run", text: "not run" };
  if (run.reconciled) return { kind: "reconciled", text: "reconciled" };
  const { open } = run.summary;
  // Not reconciled without open exceptions: the balances or the statement's own sum disagree.
  if (open === 0) return { kind: "unreconciled", text: "not reconciled" };
  return { kind: "open", text: `${open} open exception${open === 1 ? "" : "s"}` };
}

/** A fresh idempotency key (randomUUID needs a secure context; getRandomValues does not). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dash-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export const statusLabels: Record<string, string> = {
  MATCHED: "matched",
  AMOUNT_MISMATCH: "amount mismatch",
  MISSING_IN_LEDGER: "missing in ledger",
  MISSING_IN_STATEMENT: "missing in statement",
  DUPLICATE_IN_STATEMENT: "duplicate in statement",
};

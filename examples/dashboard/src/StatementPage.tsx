// One statement: its latest reconciliation run (counts, balances against the ledger's), a
// "Reconcile now" button, and the run's exceptions, each open one with "Accept" and a note.
// Live: every reconciliationChanged event of the statement (a run finished, an exception was
// resolved, by anyone) reloads the page's data, and so does a reconnect (events are not replayed).
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type Api } from "./api";
import { EmptyRow, ErrorBox, Money, statementsHref } from "./common";
import type { CurrencyRef } from "./money";
import {
  acceptDifferenceMutation,
  exceptionsQuery,
  reconcileStatementMutation,
  reconciliationChangedSubscription,
  statementQuery,
  type AcceptDifferenceData,
  type BalanceComparison,
  type ExceptionsData,
  type Limits,
  type PageInfo,
  type Problem,
  type ReconcileStatementData,
  type ReconciliationChangedData,
  type ReconciliationException,
  type RunSummary,
  type Statement,
  type StatementData,
} from "./operations";
import { newIdempotencyKey, runStatus, statusLabels } from "./reconciliation";
import { formatDateTime } from "./time";

/** The problem of a result union, or null when it is the `ok` type. */
function problemOf(result: { __typename: string }, ok: string): ApiError | null {
  if (result.__typename === ok) return null;
  const problem = result as Problem;
  return new ApiError(problem.message ?? `unexpected result ${result.__typename}`, "request", problem.code ?? result.__typename);
}

const summaryItems: readonly [keyof RunSummary, string][] = [
  ["lines", "Lines"],
  ["matched", "Matched"],
  ["amountMismatch", "Amount mismatch"],
  ["missingInLedger", "Missing in ledger"],
  ["missingInStatement", "Missing in statement"],
  ["duplicateInStatement", "Duplicate in statement"],
  ["open", "Open"],
  ["resolved", "Resolved"],
];

function ComparisonRow({
  label,
  id,
  comparison,
  currency,
}: {
  label: string;
  id: string;
  comparison: BalanceComparison;
  currency: CurrencyRef;
}) {
  const agrees = comparison.difference === "0";
  return (
    <tr data-testid={`${id}-row`}>
      <td className="row-label">{label}</td>
      <td className="num">
        <Money amount={comparison.statement} currency={currency} testId={`${id}-statement`} />
      </td>
      <td className="num">
        <Money amount={comparison.ledger} currency={currency} testId={`${id}-ledger`} />
      </td>
      <td className={agrees ? "num" : "num disagrees"}>
        <Money amount={comparison.difference} currency={currency} testId={`${id}-difference`} />
      </td>
    </tr>
  );
}

const amountCell = (amount: string | null, currency: CurrencyRef) =>
  amount === null ? <span className="muted">—</span> : <Money amount={amount} currency={currency} />;

export function StatementPage({ api, limits, statementId }: { api: Api; limits: Limits; statementId: string }) {
  const [statement, setStatement] = useState<Statement | null | undefined>(undefined);
  const [exceptions, setExceptions] = useState<ReconciliationException[]>([]);
  const [pageInfo, setPageInfo] = useState<PageInfo | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [actionError, setActionError] = useState<ApiError | string | null>(null);
  const [liveError, setLiveError] = useState<ApiError | null>(null);
  /** "reconcile", an exception's id, or "more" while that is under way. */
  const [busy, setBusy] = useState<string | null>(null);
  const [notes, setNotes] = useState<Record<string, string>>({});
  // Each reload bumps it; an answer to an older one (or a "More" from before it) is dropped.
  const generation = useRef(0);
  const first = Math.min(50, limits.pageSizeMax);

  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const [loaded, page] = await Promise.all([
        api.query<StatementData>(statementQuery, { id: statementId }),
        api.query<ExceptionsData>(exceptionsQuery, { statementId, first }),
      ]);
      if (mine !== generation.current) return;
      setStatement(loaded.statement);
      setExceptions(page.reconciliationExceptions.nodes);
      setPageInfo(page.reconciliationExceptions.pageInfo);
      setLoadError(null);
    } catch (e) {
      if (mine === generation.current) setLoadError(e as ApiError);
    }
  }, [api, statementId, first]);

  const loadMore = async (after: string) => {
    const mine = generation.current;
    setBusy("more");
    try {
      const page = await api.query<ExceptionsData>(exceptionsQuery, { statementId, first, after });
      if (mine !== generation.current) return;
      setExceptions((current) => [...current, ...page.reconciliationExceptions.nodes]);
      setPageInfo(page.reconciliationExceptions.pageInfo);
    } catch (e) {
      setLoadError(e as ApiError);
    } finally {
      setBusy(null);
    }
  };

  useEffect(() => {
    void refresh();
  }, [refresh]);

  useEffect(() => {
    setLiveError(null);
    return api.subscribe<ReconciliationChangedData>(reconciliationChangedSubscription, () => ({ statementId }), {
      next: () => void refresh(),
      error: setLiveError,
    });
  }, [api, statementId, refresh]);

  // Changes made while the socket was down are not sent: read everything again once it is back.
  useEffect(() => {
    let live = api.status() === "live";
    return api.onStatus((status) => {
      if (status === "live" && !live) void refresh();
      live = status === "live";
    });
  }, [api, refresh]);

  const reconcile = async () => {
    setBusy("reconcile");
    setActionError(null);
    try {
      const data = await api.mutate<ReconcileStatementData>(reconcileStatementMutation, { statementId });
      setActionError(problemOf(data.reconcileStatement, "StatementReconciled"));
    } catch (e) {
      setActionError(e as ApiError);
    } finally {
      setBusy(null);
    }
    await refresh();
  };

  const accept = async (exception: ReconciliationException) => {
    const note = (notes[exception.id] ?? "").trim();
    if (!note) {
      setActionError("Write a note saying why the difference is accepted.");
      return;
    }
    setBusy(exception.id);
    setActionError(null);
    try {
      const data = await api.mutate<AcceptDifferenceData>(acceptDifferenceMutation, {
        exceptionId: exception.id,
        idempotencyKey: newIdempotencyKey(),
        note,
      });
      const problem = problemOf(data.resolveReconciliationException, "ReconciliationExceptionResolved");
      setActionError(problem);
      if (!problem) setNotes(({ [exception.id]: _, ...rest }) => rest);
    } catch (e) {
      setActionError(e as ApiError);
    } finally {
      setBusy(null);
    }
    await refresh();
  };

  if (statement === undefined) {
    return loadError ? <ErrorBox error={loadError} what="Cannot load the statement" /> : <p className="muted">Loading…</p>;
  }
  if (statement === null) {
    return (
      <section>
        <a href={statementsHref}>← Statements</a>
        <p className="error">No statement {statementId} for this token.</p>
      </section>
    );
  }

  const { currency } = statement.account;
  const run = statement.latestRun;
  const status = runStatus(run);
  return (
    <section className="statement-page">
      <a href={statementsHref} className="back">
        ← Statements
      </a>
      <div className="card statement-head" data-testid="statement-header">
        <div>
          <h1>
            <bdi>{statement.source}</bdi> statement
          </h1>
          <p className="muted">
            <code>
              <bdi>{statement.account.code}</bdi>
            </code>{" "}
            · {formatDateTime(statement.periodStart)} – {formatDateTime(statement.periodEnd)} · {statement.lineCount} lines · opening{" "}
            <Money amount={statement.openingBalance} currency={currency} />, closing{" "}
            <Money amount={statement.closingBalance} currency={currency} />
          </p>
        </div>
        <button type="button" data-testid="reconcile-now" disabled={busy !== null} onClick={() => void reconcile()}>
          {busy === "reconcile" ? "Reconciling…" : "Reconcile now"}
        </button>
      </div>
      <ErrorBox error={actionError} what="Not done" testId="statement-error" />
      <ErrorBox error={loadError} what="Cannot reload the statement" />
      <ErrorBox error={liveError} what="Live updates stopped" />

      <div className="card" data-testid="run-card">
        <div className="card-head">
          <h2>Latest run</h2>
          <span className={`run-status ${status.kind}`} data-testid="run-status">
            {status.text}
          </span>
        </div>
        {run ? (
          <>
            <p className="muted small">
              <span data-testid="run-id">{run.id}</span> · {formatDateTime(run.createdAt)} ·{" "}
              <span data-testid="run-consistent">
                {run.statementConsistent ? "the statement adds up" : "the statement does not add up (opening + lines ≠ closing)"}
              </span>
              . Counts are as of the run: a resolution made since counts on the next run.
            </p>
            <dl className="summary" data-testid="run-summary">
              {summaryItems.map(([key, label]) => (
                <div key={key}>
                  <dt className="label">{label}</dt>
                  <dd className="count" data-testid={`summary-${key}`}>
                    {run.summary[key]}
                  </dd>
                </div>
              ))}
            </dl>
            <table className="comparison" data-testid="balance-comparison">
              <thead>
                <tr>
                  <th>Balance</th>
                  <th className="num">Statement</th>
                  <th className="num">Ledger</th>
                  <th className="num">Difference</th>
                </tr>
              </thead>
              <tbody>
                <ComparisonRow label="Opening" id="opening" comparison={run.opening} currency={currency} />
                <ComparisonRow label="Closing" id="closing" comparison={run.closing} currency={currency} />
              </tbody>
            </table>
          </>
        ) : (
          <p className="muted">Not reconciled yet: “Reconcile now” matches its lines with the ledger.</p>
        )}
      </div>

      <div className="card">
        <h2>Exceptions</h2>
        <div className="table-wrap">
          <table data-testid="exceptions-table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Ref</th>
                <th>Line</th>
                <th>Occurred</th>
                <th className="num">Statement</th>
                <th className="num">Ledger</th>
                <th className="num">Difference</th>
                <th>Resolution</th>
              </tr>
            </thead>
            <tbody>
              {exceptions.map((exception) => (
                <tr key={exception.id} data-testid={`exception-row-${exception.id}`}>
                  <td>
                    <span className={`tag status-${exception.status.toLowerCase()}`} data-testid={`exception-status-${exception.id}`}>
                      {statusLabels[exception.status] ?? exception.status}
                    </span>
                  </td>
                  <td>{exception.externalRef ? <code>{exception.externalRef}</code> : <span className="muted">—</span>}</td>
                  <td>
                    {exception.line ? (
                      <>
                        <code>
                          <bdi>{exception.line.externalId}</bdi>
                        </code>
                        <div className="muted small">
                          #{exception.line.lineNo} <bdi>{exception.line.description}</bdi>
                        </div>
                      </>
                    ) : (
                      <span className="muted">no line</span>
                    )}
                  </td>
                  <td className="nowrap">
                    {formatDateTime(exception.occurredAt)}
                    <div className="muted small">{exception.direction.toLowerCase()}</div>
                  </td>
                  <td className="num">{amountCell(exception.lineAmount, currency)}</td>
                  <td className="num">{amountCell(exception.ledgerAmount, currency)}</td>
                  <td className="num">
                    <Money amount={exception.difference} currency={currency} />
                  </td>
                  <td className="description">
                    {exception.resolution ? (
                      <div data-testid={`exception-resolution-${exception.id}`}>
                        <span className="tag resolved">
                          {exception.resolution.kind === "ACCEPTED_DIFFERENCE" ? "accepted" : "corrected"}
                        </span>{" "}
                        <bdi>{exception.resolution.note}</bdi>
                        <div className="muted small">
                          {formatDateTime(exception.resolution.resolvedAt)} ·{" "}
                          {exception.resolution.credential === "API_KEY" ? "API key" : "access token"}
                          {exception.resolution.transfer ? ` · ${exception.resolution.transfer.id}` : ""}
                        </div>
                      </div>
                    ) : (
                      <form
                        className="inline-form"
                        onSubmit={(e) => {
                          e.preventDefault();
                          void accept(exception);
                        }}
                      >
                        <input
                          type="text"
                          placeholder="Note"
                          aria-label="Note"
                          data-testid={`exception-note-${exception.id}`}
                          value={notes[exception.id] ?? ""}
                          onChange={(e) => setNotes((current) => ({ ...current, [exception.id]: e.target.value }))}
                        />
                        <button
                          type="submit"
                          className="secondary"
                          data-testid={`exception-accept-${exception.id}`}
                          disabled={busy !== null}
                        >
                          {busy === exception.id ? "Accepting…" : "Accept"}
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
              <EmptyRow show={exceptions.length === 0} columns={8}>
                {run ? "No exceptions: every line matched." : "No run yet."}
              </EmptyRow>
            </tbody>
          </table>
        </div>
        {pageInfo?.hasNextPage && pageInfo.endCursor ? (
          <div className="pager">
            <button
              type="button"
              className="secondary"
              disabled={busy !== null}
              onClick={() => pageInfo.endCursor && void loadMore(pageInfo.endCursor)}
            >
              More
            </button>
          </div>
        ) : null}
      </div>
    </section>
  );
}

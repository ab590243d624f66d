// An account's entries, newest first, one page at a time. The API pages forward only
// (endCursor), so "Newer" goes back through the cursors already used.
import { useEffect, useState } from "react";
import type { Api, ApiError } from "./api";
import { ErrorBox, Money, EmptyRow } from "./common";
import type { CurrencyRef } from "./money";
import { entriesQuery, type EntriesData, type Entry, type PageInfo } from "./operations";
import { formatDateTime } from "./time";

interface Props {
  api: Api;
  accountId: string;
  currency: CurrencyRef;
  /** Changes when a live event arrived: the newest page reloads. */
  revision: number;
  pageSize: number;
}

export function EntriesTable({ api, accountId, currency, revision, pageSize }: Props) {
  // The `after` cursor of each page visited; the last one is shown.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [pageInfo, setPageInfo] = useState<PageInfo | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const after = cursors[cursors.length - 1] ?? null;
  const onNewest = cursors.length === 1;

  // biome-ignore lint/correctness/useExhaustiveDependencies: a live event (revision) reloads only the newest page
  useEffect(() => {
    let current = true;
    setLoading(true);
    api
      .query<EntriesData>(entriesQuery, { id: accountId, first: pageSize, after })
      .then(
        (data) => {
          if (!current || !data.account) return;
          setEntries(data.account.entries.nodes);
          setPageInfo(data.account.entries.pageInfo);
          setError(null);
        },
        (e: ApiError) => current && setError(e),
      )
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
    // Live events reload only the newest page; older pages do not change.
  }, [api, accountId, pageSize, after, onNewest ? revision : 0]);

  return (
    <div className="card">
      <div className="card-head">
        <h2>History</h2>
        <div className="pager">
          {loading ? <span className="muted small">Loading…</span> : null}
          <button
            type="button"
            className="secondary"
            data-testid="entries-newer"
            disabled={onNewest}
            onClick={() => setCursors((c) => c.slice(0, -1))}
          >
            ← Newer
          </button>
          <button
            type="button"
            className="secondary"
            data-testid="entries-older"
            disabled={!pageInfo?.hasNextPage}
            onClick={() => pageInfo?.endCursor && setCursors((c) => [...c, pageInfo.endCursor])}
          >
            Older →
          </button>
        </div>
      </div>
      <ErrorBox error={error} what="Cannot load the history" />
      <div className="table-wrap">
        <table data-testid="entries-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Kind</th>
              <th>Side</th>
              <th className="num">Amount</th>
              <th>Description</th>
              <th className="num">Posted after</th>
              <th className="num">Available after</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id} data-testid={`entry-row-${entry.id}`}>
                <td className="nowrap">{formatDateTime(entry.createdAt)}</td>
                <td>
                  <span className={`tag kind-${entry.kind.toLowerCase()}`}>{entry.kind.toLowerCase()}</span>
                </td>
                <td>{entry.direction === "DEBIT" ? "debit" : "credit"}</td>
                <td className="num">
                  <Money amount={entry.amount} currency={currency} />
                </td>
                <td className="description">
                  <bdi>{entry.transfer?.description || entry.hold?.description || <span className="muted">—</span>}</bdi>
                </td>
                <td className="num">
                  <Money amount={entry.balanceAfter.posted} currency={currency} />
                </td>
                <td className="num">
                  <Money amount={entry.balanceAfter.available} currency={currency} />
                </td>
              </tr>
            ))}
            <EmptyRow show={!loading && entries.length === 0} columns={7}>
              No entries yet.
            </EmptyRow>
          </tbody>
        </table>
      </div>
    </div>
  );
}

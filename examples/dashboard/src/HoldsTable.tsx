// Open holds with a leg on the account, newest first.
import { useEffect, useState } from "react";
import type { Api, ApiError } from "./api";
import { ErrorBox, Money, EmptyRow } from "./common";
import type { CurrencyRef } from "./money";
import { openHoldsQuery, type Hold, type OpenHoldsData, type PageInfo } from "./operations";
import { formatDateTime, formatRelative } from "./time";

interface Props {
  api: Api;
  accountId: string;
  currency: CurrencyRef;
  /** Changes when a hold, capture or release touched the account. */
  revision: number;
  pageSize: number;
}

export function HoldsTable({ api, accountId, currency, revision, pageSize }: Props) {
  const [holds, setHolds] = useState<Hold[]>([]);
  const [pageInfo, setPageInfo] = useState<PageInfo | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);

  async function load(after: string | null) {
    setLoading(true);
    try {
      const data = await api.query<OpenHoldsData>(openHoldsQuery, { id: accountId, first: pageSize, after });
      if (!data.account) return;
      const page = data.account.holds;
      setHolds((current) => (after ? [...current, ...page.nodes] : page.nodes));
      setPageInfo(page.pageInfo);
      setError(null);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setLoading(false);
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: the props and `revision` (a live event) are the triggers; `load` is remade each render
  useEffect(() => {
    // A live event (revision) reloads from the newest hold.
    void load(null);
  }, [api, accountId, pageSize, revision]);

  return (
    <div className="card">
      <h2>Open holds</h2>
      <ErrorBox error={error} what="Cannot load holds" />
      <div className="table-wrap">
        <table data-testid="holds-table">
          <thead>
            <tr>
              <th className="num">Remaining</th>
              <th>Expires</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {holds.map((hold) => (
              <tr key={hold.id} data-testid={`hold-row-${hold.id}`}>
                <td className="num">
                  <Money amount={hold.remainingAmount} currency={currency} />
                  {hold.remainingAmount !== hold.amount ? (
                    <div className="muted small">
                      of <Money amount={hold.amount} currency={currency} />
                    </div>
                  ) : null}
                </td>
                <td className="nowrap" title={hold.expiresAt}>
                  {formatDateTime(hold.expiresAt)}
                  <div className="muted small">{formatRelative(hold.expiresAt)}</div>
                </td>
                <td className="description">
                  <bdi>{hold.description || <span className="muted">—</span>}</bdi>
                </td>
              </tr>
            ))}
            <EmptyRow show={!loading && holds.length === 0} columns={3}>
              No open holds.
            </EmptyRow>
          </tbody>
        </table>
      </div>
      {pageInfo?.hasNextPage ? (
        <div className="pager">
          <button type="button" className="secondary" disabled={loading} onClick={() => void load(pageInfo.endCursor)}>
            More
          </button>
        </div>
      ) : null}
    </div>
  );
}

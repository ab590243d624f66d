// Small shared pieces: money cells, error boxes, empty rows, the live indicator, hash routes.
import { useEffect, useState, type ReactNode } from "react";
import type { Api, ApiError, LiveStatus } from "./api";
import { formatMoney, type CurrencyRef } from "./money";
import type { PagedList } from "./usePagedList";

export function Money({ amount, currency, testId }: { amount: string; currency: CurrencyRef; testId?: string }) {
  const negative = amount.startsWith("-");
  return (
    <span className={negative ? "money negative" : "money"} data-testid={testId}>
      {formatMoney(amount, currency)}
    </span>
  );
}

export function ErrorBox({ error, what, testId }: { error: ApiError | string | null; what?: string; testId?: string }) {
  if (!error) return null;
  const message = typeof error === "string" ? error : error.message;
  const reason = typeof error === "string" ? undefined : (error.reason ?? error.code);
  return (
    <div className="error" role="alert" data-testid={testId}>
      {what ? <strong>{what}: </strong> : null}
      {message}
      {reason ? <code className="reason">{reason}</code> : null}
    </div>
  );
}

export function useLiveStatus(api: Api): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>(api.status());
  useEffect(() => {
    setStatus(api.status());
    return api.onStatus(setStatus);
  }, [api]);
  return status;
}

export function LiveIndicator({ api }: { api: Api }) {
  const status = useLiveStatus(api);
  return (
    <span
      className={`live-status ${status}`}
      data-testid="live-status"
      title={status === "live" ? "Live updates connected" : "Live updates are reconnecting"}
    >
      {status}
    </span>
  );
}

export type Route = { page: "accounts" } | { page: "account"; id: string } | { page: "statements" } | { page: "statement"; id: string };

function parseHash(hash: string): Route {
  const account = /^#\/accounts\/([^/]+)$/.exec(hash);
  if (account?.[1]) return { page: "account", id: decodeURIComponent(account[1]) };
  const statement = /^#\/statements\/([^/]+)$/.exec(hash);
  if (statement?.[1]) return { page: "statement", id: decodeURIComponent(statement[1]) };
  if (/^#\/statements\/?$/.test(hash)) return { page: "statements" };
  return { page: "accounts" };
}

export const accountHref = (id: string) => `#/accounts/${encodeURIComponent(id)}`;
export const statementsHref = "#/statements";
export const statementHref = (id: string) => `#/statements/${encodeURIComponent(id)}`;

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onHashChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, []);
  return route;
}

const balanceKinds = [
  ["posted", "Posted"],
  ["pending", "Pending"],
  ["available", "Available"],
] as const;

/** Posted, pending and available as a definition list, each cell with its test id. */
export function BalanceList({
  balance,
  currency,
  testIdOf,
  compact = false,
}: {
  balance: { posted: string; pending: string; available: string };
  currency: CurrencyRef;
  testIdOf: (kind: "posted" | "pending" | "available") => string;
  compact?: boolean;
}) {
  return (
    <dl className={compact ? "balances compact" : "balances"}>
      {balanceKinds.map(([kind, label]) => (
        <div key={kind}>
          <dt>{label}</dt>
          <dd>
            <Money amount={balance[kind]} currency={currency} testId={testIdOf(kind)} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/** The row a table shows when it has nothing to list (once loaded). */
export function EmptyRow({ show, columns, children }: { show: boolean; columns: number; children: ReactNode }) {
  if (!show) return null;
  return (
    <tr>
      <td colSpan={columns} className="muted empty">
        {children}
      </td>
    </tr>
  );
}

/** "Loading…" while a page loads, and "More" while there is a next page. */
export function MorePager({ list, testId }: { list: PagedList<unknown>; testId: string }) {
  const { loading, pageInfo, load } = list;
  return (
    <div className="pager">
      {loading ? <span className="muted">Loading…</span> : null}
      {pageInfo?.hasNextPage && !loading ? (
        <button type="button" className="secondary" data-testid={testId} onClick={() => void load(pageInfo.endCursor)}>
          More
        </button>
      ) : null}
    </div>
  );
}

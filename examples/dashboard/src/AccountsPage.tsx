// The token's accounts with live balances.
import { useMemo } from "react";
import type { Api } from "./api";
import { accountHref, ErrorBox, Money, EmptyRow, MorePager, statementsHref } from "./common";
import { accountsQuery, type AccountsData, type Limits } from "./operations";
import { usePagedList } from "./usePagedList";
import { useLiveBalances } from "./useLiveBalances";

const pageSize = 25;

export function AccountsPage({ api, limits }: { api: Api; limits: Limits }) {
  const list = usePagedList(api, accountsQuery, Math.min(pageSize, limits.pageSizeMax), (data: AccountsData) => data.accounts);
  const { nodes: accounts, loading, error } = list;

  const watchedIds = useMemo(
    () => accounts.slice(0, limits.subscriptionAccountsMax).map((a) => a.id),
    [accounts, limits.subscriptionAccountsMax],
  );
  const live = useLiveBalances(api, accounts, watchedIds);
  const unwatched = accounts.length - watchedIds.length;

  return (
    <section>
      <div className="page-head">
        <h1>Accounts</h1>
        <span className="muted">{accounts.length} shown</span>
        <a href={statementsHref} className="page-link" data-testid="statements-link">
          Statements and reconciliation →
        </a>
      </div>
      <ErrorBox error={error} what="Cannot load accounts" />
      <ErrorBox error={live.error} what="Live updates stopped" />
      {unwatched > 0 ? (
        <p className="notice" data-testid="live-limit-note">
          Live updates cover the first {watchedIds.length} accounts (the server's subscriptionAccountsMax); the other {unwatched} show the
          balance as loaded.
        </p>
      ) : null}
      <div className="table-wrap">
        <table className="accounts" data-testid="accounts-table">
          <thead>
            <tr>
              <th>Code</th>
              <th>Name</th>
              <th>Currency</th>
              <th className="num">Posted</th>
              <th className="num">Pending</th>
              <th className="num">Available</th>
            </tr>
          </thead>
          <tbody>
            {accounts.map((account) => {
              const balance = live.balances[account.id] ?? account.balance;
              const open = () => (window.location.hash = accountHref(account.id));
              return (
                <tr
                  key={account.id}
                  className={live.flashing.has(account.id) ? "clickable flash" : "clickable"}
                  data-testid={`account-row-${account.id}`}
                  onClick={open}
                >
                  <td>
                    <a href={accountHref(account.id)} onClick={(e) => e.stopPropagation()}>
                      <code>
                        <bdi>{account.code}</bdi>
                      </code>
                    </a>
                  </td>
                  <td>
                    <bdi>{account.name}</bdi>
                  </td>
                  <td>{account.currency.code}</td>
                  <td className="num">
                    <Money amount={balance.posted} currency={account.currency} testId={`posted-${account.id}`} />
                  </td>
                  <td className="num">
                    <Money amount={balance.pending} currency={account.currency} testId={`pending-${account.id}`} />
                  </td>
                  <td className="num">
                    <Money amount={balance.available} currency={account.currency} testId={`available-${account.id}`} />
                  </td>
                </tr>
              );
            })}
            <EmptyRow show={!loading && !error && accounts.length === 0} columns={6}>
              No accounts yet.
            </EmptyRow>
          </tbody>
        </table>
      </div>
      <MorePager list={list} testId="accounts-more" />
    </section>
  );
}

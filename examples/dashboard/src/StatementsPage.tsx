// The statements the token sees (of its accounts), newest first, with their latest run's status.
import type { Api } from "./api";
import { EmptyRow, ErrorBox, MorePager, statementHref } from "./common";
import { statementsQuery, type Limits, type StatementsData } from "./operations";
import { runStatus } from "./reconciliation";
import { formatDateTime } from "./time";
import { usePagedList } from "./usePagedList";

const pageSize = 25;

export function StatementsPage({ api, limits }: { api: Api; limits: Limits }) {
  const list = usePagedList(api, statementsQuery, Math.min(pageSize, limits.pageSizeMax), (data: StatementsData) => data.statements);
  const { nodes: statements, loading, error } = list;

  return (
    <section>
      <a href="#/" className="back">
        ← Accounts
      </a>
      <div className="page-head">
        <h1>Statements</h1>
        <span className="muted">{statements.length} shown</span>
      </div>
      <ErrorBox error={error} what="Cannot load statements" />
      <div className="table-wrap">
        <table className="accounts" data-testid="statements-table">
          <thead>
            <tr>
              <th>Source</th>
              <th>Account</th>
              <th>Period</th>
              <th className="num">Lines</th>
              <th>Latest run</th>
            </tr>
          </thead>
          <tbody>
            {statements.map((statement) => {
              const status = runStatus(statement.latestRun);
              return (
                <tr
                  key={statement.id}
                  className="clickable"
                  data-testid={`statement-row-${statement.id}`}
                  onClick={() => (window.location.hash = statementHref(statement.id))}
                >
                  <td>
                    <a href={statementHref(statement.id)} onClick={(e) => e.stopPropagation()}>
                      <bdi>{statement.source}</bdi>
                    </a>
                  </td>
                  <td>
                    <code>
                      <bdi>{statement.account.code}</bdi>
                    </code>
                  </td>
                  <td className="nowrap">
                    {formatDateTime(statement.periodStart)} – {formatDateTime(statement.periodEnd)}
                  </td>
                  <td className="num">{statement.lineCount}</td>
                  <td>
                    <span className={`run-status ${status.kind}`} data-testid={`statement-status-${statement.id}`}>
                      {status.text}
                    </span>
                  </td>
                </tr>
              );
            })}
            <EmptyRow show={!loading && !error && statements.length === 0} columns={5}>
              No statements for this token's accounts.
            </EmptyRow>
          </tbody>
        </table>
      </div>
      <MorePager list={list} testId="statements-more" />
    </section>
  );
}

// The ledger's invariants, checked straight in PostgreSQL after tests that write.
import type pg from "pg";

export interface InvariantReport {
  violations: string[];
}

const checks: { name: string; sql: string }[] = [
  {
    name: "per tenant and currency the signed sum of all balances is zero",
    sql: `SELECT a.tenant_id, a.currency_id, sum(a.debits_posted::numeric - a.credits_posted) AS net
          FROM accounts a GROUP BY a.tenant_id, a.currency_id HAVING sum(a.debits_posted::numeric - a.credits_posted) <> 0`,
  },
  {
    name: "each account's totals equal the sum of its entries",
    sql: `SELECT a.id FROM accounts a
          LEFT JOIN (SELECT account_id,
                            sum(amount) FILTER (WHERE direction = 'DEBIT') AS debits,
                            sum(amount) FILTER (WHERE direction = 'CREDIT') AS credits,
                            count(*) AS n
                     FROM entries GROUP BY account_id) e ON e.account_id = a.id
          WHERE a.debits_posted <> coalesce(e.debits, 0) OR a.credits_posted <> coalesce(e.credits, 0)
             OR a.version <> coalesce(e.n, 0)`,
  },
  {
    name: "each account's entries form an unbroken chain of versions and running balances",
    sql: `SELECT e.id FROM (
            SELECT e.*, lag(e.account_version) OVER w AS prev_version,
                   lag(e.debits_posted_after) OVER w AS prev_debits,
                   lag(e.credits_posted_after) OVER w AS prev_credits,
                   lag(e.created_at) OVER w AS prev_at
            FROM entries e WINDOW w AS (PARTITION BY e.account_id ORDER BY e.account_version)) e
          WHERE e.account_version <> coalesce(e.prev_version, 0) + 1
             OR e.debits_posted_after <> coalesce(e.prev_debits, 0) + CASE e.direction WHEN 'DEBIT' THEN e.amount ELSE 0 END
             OR e.credits_posted_after <> coalesce(e.prev_credits, 0) + CASE e.direction WHEN 'CREDIT' THEN e.amount ELSE 0 END
             OR e.created_at < e.prev_at`,
  },
  {
    name: "each account's newest entry carries its current totals",
    sql: `SELECT a.id FROM accounts a JOIN LATERAL (
            SELECT * FROM entries e WHERE e.account_id = a.id ORDER BY e.account_version DESC LIMIT 1) last ON true
          WHERE last.debits_posted_after <> a.debits_posted OR last.credits_posted_after <> a.credits_posted
             OR last.account_version <> a.version`,
  },
  {
    name: "each transfer balances per currency",
    sql: `SELECT e.transfer_id FROM entries e JOIN accounts a ON a.id = e.account_id
          GROUP BY e.transfer_id, a.currency_id
          HAVING sum(CASE e.direction WHEN 'DEBIT' THEN e.amount::numeric ELSE -e.amount::numeric END) <> 0`,
  },
  {
    name: "every transfer has at least two entries",
    sql: `SELECT t.id FROM transfers t LEFT JOIN entries e ON e.transfer_id = t.id GROUP BY t.id HAVING count(e.id) < 2`,
  },
  {
    name: "no bound is broken",
    sql: `SELECT id FROM (SELECT id, min_balance, max_balance,
                 CASE normal_side WHEN 'CREDIT' THEN credits_posted::numeric - debits_posted
                                  ELSE debits_posted::numeric - credits_posted END AS balance FROM accounts) a
          WHERE (min_balance IS NOT NULL AND balance < min_balance) OR (max_balance IS NOT NULL AND balance > max_balance)`,
  },
  {
    name: "every entry's tenant is its account's and its transfer's tenant",
    sql: `SELECT e.id FROM entries e JOIN accounts a ON a.id = e.account_id JOIN transfers t ON t.id = e.transfer_id
          WHERE e.tenant_id <> a.tenant_id OR e.tenant_id <> t.tenant_id`,
  },
];

export async function checkInvariants(pool: pg.Pool): Promise<string[]> {
  const violations: string[] = [];
  for (const check of checks) {
    const { rows } = await pool.query(check.sql);
    if (rows.length > 0) violations.push(`${check.name}: ${rows.length} violation(s), e.g. ${JSON.stringify(rows[0])}`);
  }
  return violations;
}

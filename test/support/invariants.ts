// The ledger's invariants, checked straight in PostgreSQL after tests that write.
import type pg from "pg";

export interface InvariantReport {
  violations: string[];
}

// Entries move totals by kind: POSTED and CAPTURE add to posted; HOLD adds to pending; RELEASE
// and CAPTURE take from pending.
const postedDelta = (side: string) => `CASE WHEN e.kind IN ('POSTED', 'CAPTURE') AND e.direction = '${side}' THEN e.amount ELSE 0 END`;
const pendingDelta = (side: string) =>
  `CASE WHEN e.direction <> '${side}' THEN 0 WHEN e.kind = 'HOLD' THEN e.amount WHEN e.kind = 'POSTED' THEN 0 ELSE -e.amount END`;

/** Per HOLD leg: what it still reserves (two-leg holds settle in parts, others whole). */
const openLegs = `
  SELECT l.account_id, l.direction,
         CASE WHEN n.legs = 2 THEN h.amount - h.captured_amount ELSE l.amount END AS remaining
  FROM holds h
  JOIN entries l ON l.hold_id = h.id AND l.kind = 'HOLD'
  JOIN (SELECT hold_id, count(*) AS legs FROM entries WHERE kind = 'HOLD' GROUP BY hold_id) n ON n.hold_id = h.id
  WHERE h.status = 'OPEN'`;

const checks: { name: string; sql: string }[] = [
  {
    name: "per tenant and currency the signed sums of posted and of pending balances are zero",
    sql: `SELECT a.tenant_id, a.currency_id FROM accounts a GROUP BY a.tenant_id, a.currency_id
          HAVING sum(a.debits_posted::numeric - a.credits_posted) <> 0 OR sum(a.debits_pending::numeric - a.credits_pending) <> 0`,
  },
  {
    name: "each account's totals equal the sum of its entries",
    sql: `SELECT a.id FROM accounts a
          LEFT JOIN (SELECT e.account_id,
                            sum(${postedDelta("DEBIT")}) AS dp, sum(${postedDelta("CREDIT")}) AS cp,
                            sum(${pendingDelta("DEBIT")}) AS dq, sum(${pendingDelta("CREDIT")}) AS cq,
                            count(*) AS n
                     FROM entries e GROUP BY e.account_id) e ON e.account_id = a.id
          WHERE a.debits_posted <> coalesce(e.dp, 0) OR a.credits_posted <> coalesce(e.cp, 0)
             OR a.debits_pending <> coalesce(e.dq, 0) OR a.credits_pending <> coalesce(e.cq, 0)
             OR a.version <> coalesce(e.n, 0)`,
  },
  {
    name: "each account's entries form an unbroken chain of versions and running totals",
    sql: `SELECT e.id FROM (
            SELECT e.*, lag(e.account_version) OVER w AS prev_version,
                   lag(e.debits_posted_after) OVER w AS prev_dp, lag(e.credits_posted_after) OVER w AS prev_cp,
                   lag(e.debits_pending_after) OVER w AS prev_dq, lag(e.credits_pending_after) OVER w AS prev_cq,
                   lag(e.created_at) OVER w AS prev_at
            FROM entries e WINDOW w AS (PARTITION BY e.account_id ORDER BY e.account_version)) e
          WHERE e.account_version <> coalesce(e.prev_version, 0) + 1
             OR e.debits_posted_after <> coalesce(e.prev_dp, 0) + ${postedDelta("DEBIT")}
             OR e.credits_posted_after <> coalesce(e.prev_cp, 0) + ${postedDelta("CREDIT")}
             OR e.debits_pending_after <> coalesce(e.prev_dq, 0) + ${pendingDelta("DEBIT")}
             OR e.credits_pending_after <> coalesce(e.prev_cq, 0) + ${pendingDelta("CREDIT")}
             OR e.created_at < e.prev_at`,
  },
  {
    name: "each account's newest entry carries its current totals",
    sql: `SELECT a.id FROM accounts a JOIN LATERAL (
            SELECT * FROM entries e WHERE e.account_id = a.id ORDER BY e.account_version DESC LIMIT 1) last ON true
          WHERE last.debits_posted_after <> a.debits_posted OR last.credits_posted_after <> a.credits_posted
             OR last.debits_pending_after <> a.debits_pending OR last.credits_pending_after <> a.credits_pending
             OR last.account_version <> a.version`,
  },
  {
    name: "pending totals equal the remaining amounts of the open holds",
    sql: `SELECT a.id FROM accounts a
          LEFT JOIN (SELECT account_id, sum(remaining) FILTER (WHERE direction = 'DEBIT') AS dq,
                            sum(remaining) FILTER (WHERE direction = 'CREDIT') AS cq
                     FROM (${openLegs}) o GROUP BY account_id) o ON o.account_id = a.id
          WHERE a.debits_pending <> coalesce(o.dq, 0) OR a.credits_pending <> coalesce(o.cq, 0)`,
  },
  {
    name: "each transfer, and each hold's reservation, balances per currency",
    sql: `SELECT coalesce(e.transfer_id, e.hold_id) FROM entries e JOIN accounts a ON a.id = e.account_id
          WHERE e.kind <> 'RELEASE'
          GROUP BY coalesce(e.transfer_id, e.hold_id), e.kind = 'HOLD', a.currency_id
          HAVING sum(CASE e.direction WHEN 'DEBIT' THEN e.amount::numeric ELSE -e.amount::numeric END) <> 0`,
  },
  {
    name: "every transfer has at least two entries",
    sql: `SELECT t.id FROM transfers t LEFT JOIN entries e ON e.transfer_id = t.id GROUP BY t.id HAVING count(e.id) < 2`,
  },
  {
    name: "each hold's captures and release add up to what it settled",
    sql: `SELECT h.id FROM holds h
          LEFT JOIN (SELECT hold_id, sum(amount) FILTER (WHERE kind = 'CAPTURE' AND direction = 'DEBIT') AS captured,
                            sum(amount) FILTER (WHERE kind = 'RELEASE' AND direction = 'DEBIT') AS released,
                            sum(amount) FILTER (WHERE kind = 'HOLD' AND direction = 'DEBIT') AS reserved
                     FROM entries WHERE hold_id IS NOT NULL GROUP BY hold_id) s ON s.hold_id = h.id
          WHERE coalesce(s.reserved, 0) <> h.amount OR coalesce(s.captured, 0) <> h.captured_amount
             OR coalesce(s.released, 0) <> h.released_amount`,
  },
  {
    name: "the reversals of a transfer never exceed it",
    sql: `SELECT o.id FROM transfers o
          JOIN entries oe ON oe.transfer_id = o.id AND oe.leg_index = 0
          JOIN transfers r ON r.reverses_id = o.id
          JOIN entries re ON re.transfer_id = r.id AND re.leg_index = 0
          GROUP BY o.id, oe.amount HAVING sum(re.amount) > oe.amount`,
  },
  {
    name: "no bound is broken (unless a forced reversal took the account out)",
    sql: `SELECT a.id FROM accounts a
          WHERE NOT ledger_within_bounds(a.normal_side, a.min_balance, a.max_balance, a.debits_posted, a.credits_posted,
                                         a.debits_pending, a.credits_pending)
            AND NOT (a.forced_out_of_bounds AND EXISTS (
              SELECT 1 FROM entries e JOIN transfers t ON t.id = e.transfer_id WHERE e.account_id = a.id AND t.forced))`,
  },
  {
    name: "every entry's tenant is its account's, its transfer's and its hold's tenant",
    sql: `SELECT e.id FROM entries e JOIN accounts a ON a.id = e.account_id
          LEFT JOIN transfers t ON t.id = e.transfer_id LEFT JOIN holds h ON h.id = e.hold_id
          WHERE e.tenant_id <> a.tenant_id OR e.tenant_id <> t.tenant_id OR e.tenant_id <> h.tenant_id`,
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

-- Reconciliation: one run matches a statement's lines with the entries on its account, set-based
-- (a few statements over the whole statement, whatever its size), deterministic (every tie is
-- broken by time, then id), and writes one result per line and per entry left unmatched.
--
-- Candidates: the account's POSTED and CAPTURE entries from periodStart - tolerance to
-- periodEnd + tolerance, and the entries of transfers that resolutions of this statement posted
-- (corrections may be made long after the period). An entry outside the period that no line
-- takes is left out (it belongs to the next or the previous statement).
--
-- Passes, each over what the earlier ones left:
--   duplicates   a line whose externalId an earlier line of the statement has: DUPLICATE_IN_STATEMENT
--   by ref       lines and entries with the same externalRef and direction: first pairs with the
--                same amount (MATCHED), then per (ref, direction) the rest as a group: equal sums
--                are MATCHED, else every line of the group is AMOUNT_MISMATCH
--   corrections  a line without a ref that a correcting transfer resolved, with that transfer's entries
--   by amount    the same direction and amount within the time tolerance, paired in time order
--   the rest     lines MISSING_IN_LEDGER, entries in the period MISSING_IN_STATEMENT
-- Each result carries the resolution that settles it (of its line or entry, or the resolution
-- that posted it, for a correcting entry): an exception without one is open.
CREATE OR REPLACE FUNCTION ledger_reconcile(p_run uuid, p_statement uuid, p_tolerance_ms bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_account uuid;
  v_from timestamptz;
  v_to timestamptz;
  v_start timestamptz;
  v_end timestamptz;
  v_tolerance interval := p_tolerance_ms * interval '1 millisecond';
  v_summary jsonb;
BEGIN
  SELECT s.account_id, s.period_start, s.period_end INTO v_account, v_start, v_end FROM statements s WHERE s.id = p_statement;
  IF NOT FOUND THEN RAISE EXCEPTION 'ledger: no statement %', p_statement; END IF;
  v_from := v_start - v_tolerance;
  v_to := v_end + v_tolerance;

  CREATE TEMP TABLE rec_lines ON COMMIT DROP AS
    SELECT l.id, l.line_no, l.external_id, l.external_ref, l.amount, l.direction, l.occurred_at,
           r.id AS resolution_id, r.transfer_id AS correction, false AS matched, NULL::text AS status,
           '{}'::bigint[] AS entry_ids, NULL::bigint AS ledger_amount
      FROM statement_lines l
      LEFT JOIN reconciliation_resolutions r ON r.statement_id = p_statement AND r.line_id = l.id
     WHERE l.statement_id = p_statement;

  CREATE TEMP TABLE rec_entries ON COMMIT DROP AS
    WITH corrections AS (
      SELECT r.id, r.transfer_id, r.line_id FROM reconciliation_resolutions r
       WHERE r.statement_id = p_statement AND r.transfer_id IS NOT NULL
    ), candidates AS (
      SELECT e.id, e.transfer_id, e.amount, e.direction, e.created_at FROM entries e
       WHERE e.account_id = v_account AND e.kind IN ('POSTED', 'CAPTURE') AND e.created_at >= v_from AND e.created_at < v_to
      UNION
      SELECT e.id, e.transfer_id, e.amount, e.direction, e.created_at FROM entries e JOIN corrections c ON c.transfer_id = e.transfer_id
       WHERE e.account_id = v_account
    )
    SELECT c.id, c.transfer_id, t.external_ref, c.amount, c.direction, c.created_at,
           (c.created_at >= v_start AND c.created_at < v_end) AS in_period,
           own.id AS resolution_id, made.id AS made_by, made.line_id AS correction_of_line, false AS matched
      FROM candidates c
      JOIN transfers t ON t.id = c.transfer_id
      LEFT JOIN reconciliation_resolutions own ON own.statement_id = p_statement AND own.entry_id = c.id
      LEFT JOIN corrections made ON made.transfer_id = c.transfer_id;
  ANALYZE rec_lines;
  ANALYZE rec_entries;

  -- Duplicates.
  UPDATE rec_lines l SET status = 'DUPLICATE_IN_STATEMENT', matched = true
    FROM (SELECT id, row_number() OVER (PARTITION BY external_id ORDER BY line_no) AS n FROM rec_lines) d
   WHERE d.id = l.id AND d.n > 1;

  -- By ref: pairs with the same amount.
  WITH l AS (
    SELECT id, external_ref, direction, amount,
           row_number() OVER (PARTITION BY external_ref, direction, amount ORDER BY occurred_at, line_no) AS n
      FROM rec_lines WHERE NOT matched AND external_ref IS NOT NULL
  ), e AS (
    SELECT id, external_ref, direction, amount,
           row_number() OVER (PARTITION BY external_ref, direction, amount ORDER BY created_at, id) AS n
      FROM rec_entries WHERE NOT matched AND external_ref IS NOT NULL
  ), pairs AS (
    SELECT l.id AS line_id, e.id AS entry_id, e.amount FROM l JOIN e USING (external_ref, direction, amount, n)
  ), lines_done AS (
    UPDATE rec_lines x SET matched = true, status = 'MATCHED', entry_ids = ARRAY[p.entry_id], ledger_amount = p.amount
      FROM pairs p WHERE x.id = p.line_id RETURNING 1
  )
  UPDATE rec_entries x SET matched = true FROM pairs p WHERE x.id = p.entry_id;

  -- By ref: what is left of each (ref, direction), as a group.
  WITH gl AS (
    SELECT external_ref, direction, sum(amount) AS total FROM rec_lines
     WHERE NOT matched AND external_ref IS NOT NULL GROUP BY external_ref, direction
  ), ge AS (
    SELECT external_ref, direction, sum(amount) AS total, array_agg(id ORDER BY created_at, id) AS ids FROM rec_entries
     WHERE NOT matched AND external_ref IS NOT NULL GROUP BY external_ref, direction
  ), groups AS (
    SELECT gl.external_ref, gl.direction, gl.total = ge.total AS equal, ge.total AS ledger_total, ge.ids
      FROM gl JOIN ge USING (external_ref, direction)
  ), lines_done AS (
    UPDATE rec_lines x SET matched = true, status = CASE WHEN g.equal THEN 'MATCHED' ELSE 'AMOUNT_MISMATCH' END,
           entry_ids = g.ids, ledger_amount = g.ledger_total
      FROM groups g
     WHERE NOT x.matched AND x.external_ref = g.external_ref AND x.direction = g.direction RETURNING 1
  )
  UPDATE rec_entries x SET matched = true FROM groups g
   WHERE NOT x.matched AND x.external_ref = g.external_ref AND x.direction = g.direction;

  -- Corrections of lines without a ref.
  WITH ge AS (
    SELECT correction_of_line AS line_id,
           sum(CASE WHEN e.direction = l.direction THEN e.amount ELSE -e.amount END) AS total,
           array_agg(e.id ORDER BY e.id) AS ids
      FROM rec_entries e JOIN rec_lines l ON l.id = e.correction_of_line
     WHERE NOT e.matched AND NOT l.matched
     GROUP BY correction_of_line
  ), lines_done AS (
    UPDATE rec_lines x SET matched = true, status = CASE WHEN g.total = x.amount THEN 'MATCHED' ELSE 'AMOUNT_MISMATCH' END,
           entry_ids = g.ids, ledger_amount = g.total
      FROM ge g WHERE x.id = g.line_id RETURNING 1
  )
  UPDATE rec_entries x SET matched = true FROM ge g WHERE NOT x.matched AND x.correction_of_line = g.line_id;

  -- By amount and direction, within the tolerance, paired in time order.
  WITH l AS (
    SELECT id, direction, amount, occurred_at,
           row_number() OVER (PARTITION BY direction, amount ORDER BY occurred_at, line_no) AS n
      FROM rec_lines WHERE NOT matched
  ), e AS (
    SELECT id, direction, amount, created_at,
           row_number() OVER (PARTITION BY direction, amount ORDER BY created_at, id) AS n
      FROM rec_entries WHERE NOT matched AND correction_of_line IS NULL
  ), pairs AS (
    SELECT l.id AS line_id, e.id AS entry_id, e.amount FROM l JOIN e USING (direction, amount, n)
     WHERE abs(extract(epoch FROM (e.created_at - l.occurred_at))) * 1000 <= p_tolerance_ms
  ), lines_done AS (
    UPDATE rec_lines x SET matched = true, status = 'MATCHED', entry_ids = ARRAY[p.entry_id], ledger_amount = p.amount
      FROM pairs p WHERE x.id = p.line_id RETURNING 1
  )
  UPDATE rec_entries x SET matched = true FROM pairs p WHERE x.id = p.entry_id;

  UPDATE rec_lines SET status = 'MISSING_IN_LEDGER' WHERE NOT matched;

  -- Lines in statement order, then the unmatched entries in time order.
  INSERT INTO reconciliation_results (run_id, line_id, entry_id, status, entry_ids, line_amount, ledger_amount, direction,
                                      external_ref, occurred_at, resolution_id)
  SELECT p_run, x.line_id, x.entry_id, x.status, x.entry_ids, x.line_amount, x.ledger_amount, x.direction, x.external_ref,
         x.occurred_at, x.resolution_id
    FROM (
      SELECT 0 AS part, l.line_no::bigint AS place, l.id AS line_id, NULL::bigint AS entry_id, l.status, l.entry_ids,
             l.amount AS line_amount, l.ledger_amount, l.direction, l.external_ref, l.occurred_at, l.resolution_id
        FROM rec_lines l
      UNION ALL
      SELECT 1, e.id, NULL, e.id, 'MISSING_IN_STATEMENT', ARRAY[e.id], NULL, e.amount, e.direction, e.external_ref, e.created_at,
             coalesce(e.resolution_id, e.made_by)
        FROM rec_entries e WHERE NOT e.matched AND (e.in_period OR e.made_by IS NOT NULL)
    ) x
   ORDER BY x.part, x.occurred_at, x.place;

  SELECT jsonb_build_object(
           'lines', (SELECT count(*) FROM rec_lines),
           'byStatus', coalesce((SELECT jsonb_object_agg(status, n) FROM (
              SELECT r.status, count(*) AS n FROM reconciliation_results r WHERE r.run_id = p_run GROUP BY r.status) s), '{}'::jsonb),
           'open', (SELECT count(*) FROM reconciliation_results r WHERE r.run_id = p_run AND r.status <> 'MATCHED' AND r.resolution_id IS NULL),
           'resolved', (SELECT count(*) FROM reconciliation_results r WHERE r.run_id = p_run AND r.status <> 'MATCHED' AND r.resolution_id IS NOT NULL))
    INTO v_summary;
  DROP TABLE rec_lines;
  DROP TABLE rec_entries;
  RETURN v_summary;
END;
$$;

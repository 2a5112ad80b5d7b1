-- One page of the month's mismatched rows (as billing/mismatches.sql orders them) and how
-- many there are in all, as one row: the page is a list of rows, empty past the last page.
WITH m AS (SELECT * FROM billing_mismatch_rows($accounts, $month))
SELECT
  (SELECT count(*) FROM m) AS total_items,
  coalesce((
    SELECT list(p ORDER BY p.account_id, p.problem, p.ref_type, p.ref_id, p.ledger_id)
    FROM (SELECT * FROM m ORDER BY account_id, problem, ref_type, ref_id, ledger_id
          LIMIT $page_size OFFSET ($page - 1) * $page_size) p
  ), []) AS rows

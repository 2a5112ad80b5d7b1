-- Every row behind a reconciliation mismatch of the month, for the XLSX's second sheet:
-- usage without a record, a record without usage, and credits that differ (kept by the
-- sync in billing_issues).
SELECT account_id, problem, ref_type, ref_id, ledger_id,
  strftime("at", '%Y-%m-%dT%H:%M:%S.%gZ') AS occurred_at,
  record_credits::DECIMAL(18,4)::VARCHAR AS record_credits,
  charged::DECIMAL(18,4)::VARCHAR AS charged_credits,
  (coalesce(record_credits, 0) - charged)::DECIMAL(18,4)::VARCHAR AS difference
FROM billing_month_issues($accounts, $month)
ORDER BY account_id, problem, ref_type, ref_id, ledger_id

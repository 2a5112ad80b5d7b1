-- Every row behind a reconciliation mismatch of the month, for the XLSX's second sheet:
-- usage without a record, a record without usage, and credits that differ.
SELECT * FROM (
  SELECT account_id, 'usage_without_record' AS problem, ref_type, ref_id, ledger_id,
    strftime("at", '%Y-%m-%dT%H:%M:%S.%gZ') AS occurred_at, NULL::VARCHAR AS record_credits, charged::DECIMAL(18,4)::VARCHAR AS charged_credits,
    (-charged)::DECIMAL(18,4)::VARCHAR AS difference
  FROM billing_orphan_usage($accounts, $month)
  UNION ALL
  SELECT account_id, CASE WHEN usage_rows = 0 THEN 'record_without_usage' ELSE 'credits_differ' END, ref_type, ref_id, NULL,
    strftime("at", '%Y-%m-%dT%H:%M:%S.%gZ'), credits::DECIMAL(18,4)::VARCHAR, charged::DECIMAL(18,4)::VARCHAR,
    (credits - charged)::DECIMAL(18,4)::VARCHAR
  FROM billing_records($accounts, $month)
  WHERE (credits > 0 AND usage_rows = 0) OR (usage_rows > 0 AND credits <> charged)
)
ORDER BY account_id, problem, ref_type, ref_id, ledger_id

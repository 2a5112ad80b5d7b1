-- Every row behind a reconciliation mismatch of the month (kept by the sync in
-- billing_issues): usage without a record, a record without usage, and credits that
-- differ. The XLSX's second sheet and the CSV of /api/billing/mismatches.
SELECT * FROM billing_mismatch_rows($accounts, $month)
ORDER BY account_id, problem, ref_type, ref_id, ledger_id

-- The monthly billing reconciliation (docs/reports.md "Monthly billing reconciliation"), one
-- row per account of the scope. Every sum stays DECIMAL(…, 4) and leaves as text.
WITH a AS (SELECT * FROM billing_accounts($accounts, $month)),
-- Calls and the ledger from their slot roll-ups; an account whose month does not fall on
-- slot boundaries (see billing_accounts) from the rows themselves.
calls_m AS (
  SELECT g.account_id, sum(g.calls)::BIGINT AS n, sum(g.billable_minutes)::BIGINT AS billable_minutes,
    sum(g.cost) AS cost, sum(g.credits) AS credits
  FROM call_groups g JOIN a ON g.account_id = a.account_id AND a.aligned AND g.slot15 >= a.s_from AND g.slot15 < a.s_to
  WHERE g.status <> 'blocked'
    -- Constant bounds around every zone's month (no offset reaches a day), which let
    -- DuckDB skip the other months' row groups; the join cuts each account's exactly.
    AND g.slot15 >= floor(epoch(strptime($month || '-01', '%Y-%m-%d') - INTERVAL 1 DAY) / 900)
    AND g.slot15 < ceil(epoch(strptime($month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH + INTERVAL 1 DAY) / 900)
  GROUP BY 1
  UNION ALL
  SELECT c.account_id, count(*), coalesce(sum(ceil(c.talk_sec / 60)::BIGINT) FILTER (WHERE c.is_answered), 0),
    sum(c.cost), sum(c.credits)
  FROM calls c JOIN a ON c.account_id = a.account_id AND NOT a.aligned AND c.started_at >= a.m_from AND c.started_at < a.m_to
  WHERE c.status <> 'blocked'
  GROUP BY 1
),
sms_m AS (
  SELECT s.account_id, count(*) AS n, sum(s.segments) AS segments, sum(s.cost) AS cost, sum(s.credits) AS credits
  FROM sms_messages s JOIN a ON s.account_id = a.account_id AND s.sent_at >= a.m_from AND s.sent_at < a.m_to
  GROUP BY 1
),
ledger_rows AS (
  SELECT t.account_id, t.slot15 >= a.s_from AS after_open, t.slot15 < a.s_to AS before_close, t.kind, t.credits
  FROM ledger_slots t JOIN a ON t.account_id = a.account_id AND a.aligned
  UNION ALL
  SELECT t.account_id, t.created_at >= a.m_from, t.created_at < a.m_to, t.kind, t.credits
  FROM credit_transactions t JOIN a ON t.account_id = a.account_id AND NOT a.aligned
),
ledger AS (
  SELECT account_id,
    sum(credits) FILTER (WHERE NOT after_open)                                      AS opening,
    sum(credits) FILTER (WHERE after_open AND before_close AND kind = 'purchase')   AS purchases,
    sum(credits) FILTER (WHERE after_open AND before_close AND kind = 'usage')      AS usage,
    sum(credits) FILTER (WHERE after_open AND before_close AND kind = 'refund')     AS refunds,
    sum(credits) FILTER (WHERE after_open AND before_close AND kind = 'adjustment') AS adjustments,
    sum(credits) FILTER (WHERE before_close)                                        AS closing
  FROM ledger_rows
  GROUP BY 1
),
issues AS (SELECT * FROM billing_month_issues($accounts, $month)),
no_usage AS (
  SELECT account_id, count(*) AS n, sum(record_credits) AS credits FROM issues WHERE problem = 'record_without_usage' GROUP BY 1
),
differ AS (
  SELECT account_id, count(*) AS n, sum(record_credits - charged) AS difference FROM issues WHERE problem = 'credits_differ' GROUP BY 1
),
orphans AS (
  SELECT account_id, count(*) AS n, sum(charged) AS credits FROM issues WHERE problem = 'usage_without_record' GROUP BY 1
)
SELECT
  a.account_id, a.auth_id, a.name, a.timezone,
  coalesce(c.n, 0) AS calls_count, coalesce(c.billable_minutes, 0) AS calls_billable_minutes,
  coalesce(c.cost, 0)::DECIMAL(18,4)::VARCHAR AS calls_cost, coalesce(c.credits, 0)::DECIMAL(18,4)::VARCHAR AS calls_credits,
  coalesce(s.n, 0) AS sms_count, coalesce(s.segments, 0) AS sms_segments,
  coalesce(s.cost, 0)::DECIMAL(18,4)::VARCHAR AS sms_cost, coalesce(s.credits, 0)::DECIMAL(18,4)::VARCHAR AS sms_credits,
  coalesce(l.opening, 0)::DECIMAL(18,4)::VARCHAR AS ledger_opening_balance,
  coalesce(l.purchases, 0)::DECIMAL(18,4)::VARCHAR AS ledger_purchases,
  coalesce(l.usage, 0)::DECIMAL(18,4)::VARCHAR AS ledger_usage,
  coalesce(l.refunds, 0)::DECIMAL(18,4)::VARCHAR AS ledger_refunds,
  coalesce(l.adjustments, 0)::DECIMAL(18,4)::VARCHAR AS ledger_adjustments,
  coalesce(l.closing, 0)::DECIMAL(18,4)::VARCHAR AS ledger_closing_balance,
  CASE WHEN coalesce(o.n, 0) + coalesce(nu.n, 0) + coalesce(d.n, 0) > 0 THEN 'mismatch' ELSE 'ok' END AS status,
  -- Whether the month has ended in the account's timezone: until then its figures are partial.
  a.m_to <= $now::TIMESTAMP AS complete,
  coalesce(o.n, 0) AS usage_without_record_count, coalesce(o.credits, 0)::DECIMAL(18,4)::VARCHAR AS usage_without_record_credits,
  coalesce(nu.n, 0) AS record_without_usage_count, coalesce(nu.credits, 0)::DECIMAL(18,4)::VARCHAR AS record_without_usage_credits,
  coalesce(d.n, 0) AS credits_differ_count, coalesce(d.difference, 0)::DECIMAL(18,4)::VARCHAR AS credits_differ_difference
FROM a
LEFT JOIN calls_m c ON c.account_id = a.account_id
LEFT JOIN sms_m s ON s.account_id = a.account_id
LEFT JOIN ledger l ON l.account_id = a.account_id
LEFT JOIN no_usage nu ON nu.account_id = a.account_id
LEFT JOIN differ d ON d.account_id = a.account_id
LEFT JOIN orphans o ON o.account_id = a.account_id
ORDER BY a.account_id

-- The monthly billing reconciliation (METRICS.md "Monthly billing reconciliation"), one
-- row per account of the scope. Every sum stays DECIMAL(…, 4) and leaves as text.
WITH a AS (SELECT * FROM billing_accounts($accounts, $month)),
calls_m AS (
  SELECT c.account_id, count(*) AS n,
    coalesce(sum(ceil(c.talk_sec / 60)::BIGINT) FILTER (WHERE c.is_answered), 0) AS billable_minutes,
    sum(c.cost) AS cost, sum(c.credits) AS credits
  FROM calls c JOIN a ON c.account_id = a.account_id AND c.started_at >= a.m_from AND c.started_at < a.m_to
  WHERE c.status <> 'blocked'
  GROUP BY 1
),
sms_m AS (
  SELECT s.account_id, count(*) AS n, sum(s.segments) AS segments, sum(s.cost) AS cost, sum(s.credits) AS credits
  FROM sms_messages s JOIN a ON s.account_id = a.account_id AND s.sent_at >= a.m_from AND s.sent_at < a.m_to
  GROUP BY 1
),
ledger AS (
  SELECT t.account_id,
    sum(t.credits) FILTER (WHERE t.created_at < a.m_from)                                            AS opening,
    sum(t.credits) FILTER (WHERE t.created_at >= a.m_from AND t.created_at < a.m_to AND t.kind = 'purchase')   AS purchases,
    sum(t.credits) FILTER (WHERE t.created_at >= a.m_from AND t.created_at < a.m_to AND t.kind = 'usage')      AS usage,
    sum(t.credits) FILTER (WHERE t.created_at >= a.m_from AND t.created_at < a.m_to AND t.kind = 'refund')     AS refunds,
    sum(t.credits) FILTER (WHERE t.created_at >= a.m_from AND t.created_at < a.m_to AND t.kind = 'adjustment') AS adjustments,
    sum(t.credits) FILTER (WHERE t.created_at < a.m_to)                                              AS closing
  FROM credit_transactions t JOIN a ON t.account_id = a.account_id
  GROUP BY 1
),
records AS (SELECT * FROM billing_records($accounts, $month)),
no_usage AS (
  SELECT account_id, count(*) AS n, sum(credits) AS credits FROM records WHERE credits > 0 AND usage_rows = 0 GROUP BY 1
),
differ AS (
  SELECT account_id, count(*) AS n, sum(credits - charged) AS difference FROM records WHERE usage_rows > 0 AND credits <> charged GROUP BY 1
),
orphans AS (
  SELECT account_id, count(*) AS n, sum(charged) AS credits FROM billing_orphan_usage($accounts, $month) GROUP BY 1
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

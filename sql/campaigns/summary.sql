-- The campaign report summary (docs/reports.md "Campaign reports"): one page of the
-- non-deleted campaigns in scope, by id, each over its whole life. Only the page's
-- campaigns meet the call roll-up, SMS and leads.
WITH live AS (
  SELECT id, name, type, status FROM campaigns
  WHERE in_scope(account_id, $accounts)
    AND deleted_at IS NULL
),
page AS (
  SELECT * FROM live ORDER BY id LIMIT $page_size OFFSET ($page - 1) * $page_size
),
-- The page's calls by campaign and status, from the call_groups roll-up.
by_status AS (
  SELECT campaign_id, status, sum(calls)::BIGINT AS n,
    coalesce(sum(calls) FILTER (WHERE direction = 'outbound' AND status <> 'blocked'), 0)::BIGINT AS dials,
    sum(talk_sec)::BIGINT AS talk_sec,
    sum(credits) AS credits
  FROM call_groups
  WHERE campaign_id IN (SELECT id FROM page)
    AND in_scope(account_id, $accounts)
  GROUP BY ALL
),
call_totals AS (
  SELECT campaign_id, sum(dials) AS attempts, sum(talk_sec) AS talk_sec, sum(credits) AS credits,
    list({'status': status, 'n': n}) AS by_status
  FROM by_status GROUP BY 1
),
sms_totals AS (
  SELECT campaign_id, sum(credits) AS credits FROM sms_messages
  WHERE campaign_id IN (SELECT id FROM page) AND list_contains($accounts, account_id)
  GROUP BY 1
),
-- The page's non-deleted leads, from the lead_slots roll-up (regular and irregular ones).
lead_totals AS (
  SELECT campaign_id, sum(leads + irregular)::BIGINT AS n FROM lead_slots
  WHERE campaign_id IN (SELECT id FROM page)
  GROUP BY 1
)
SELECT
  (SELECT count(*) FROM live) AS total_items,
  (SELECT list({
     'id': p.id, 'name': p.name, 'type': p.type, 'status': p.status,
     'total_numbers': coalesce(l.n, 0),
     'attempts': coalesce(c.attempts, 0),
     'by_status': c.by_status,
     'talk_sec': coalesce(c.talk_sec, 0),
     'credits': (coalesce(c.credits, 0) + coalesce(m.credits, 0))::VARCHAR
   } ORDER BY p.id)
   FROM page p
   LEFT JOIN call_totals c ON c.campaign_id = p.id
   LEFT JOIN sms_totals m ON m.campaign_id = p.id
   LEFT JOIN lead_totals l ON l.campaign_id = p.id) AS campaigns

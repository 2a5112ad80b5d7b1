-- The per-campaign report download: one row per non-deleted lead of the campaign, by
-- lead id. "Its calls" are the lead's calls made in this campaign (a call to the lead
-- from another campaign belongs to that campaign's report, so the download's credits add
-- up to the summary's call credits). Its latest call (started_at, then id) gives status,
-- duration, playback and last_attempt_at; credits are those of all its calls; attempts
-- are its dials.
WITH l AS (
  SELECT id, phone FROM leads
  WHERE campaign_id = $campaign_id AND deleted_at IS NULL
    AND in_scope(account_id, $accounts)
),
c AS (
  SELECT lead_id, status, talk_sec, playback_sec, started_at, credits, is_dial,
    row_number() OVER (PARTITION BY lead_id ORDER BY started_at DESC, id DESC) AS recency
  FROM calls
  WHERE lead_id IN (SELECT id FROM l) AND campaign_id = $campaign_id AND list_contains($accounts, account_id)
),
per_lead AS (
  SELECT lead_id,
    sum(credits)                               AS credits,
    count(*) FILTER (WHERE is_dial)            AS attempts,
    any_value(status) FILTER (WHERE recency = 1)       AS status,
    any_value(talk_sec) FILTER (WHERE recency = 1)     AS talk_sec,
    any_value(playback_sec) FILTER (WHERE recency = 1) AS playback_sec,
    any_value(started_at) FILTER (WHERE recency = 1)   AS last_at
  FROM c GROUP BY lead_id
)
SELECT
  l.phone                                    AS number,
  coalesce(p.status, 'not started')          AS status,
  p.talk_sec                                 AS duration,
  p.playback_sec                             AS playback,
  -- Exact credits without trailing zeros: 8, 2.5.
  CASE WHEN p.credits IS NULL THEN '0'
       ELSE regexp_replace(regexp_replace(p.credits::VARCHAR, '(\.\d*?)0+$', '\1'), '\.$', '') END AS credit_consumed,
  coalesce(p.attempts, 0)                    AS attempts,
  iso_local(p.last_at, $tz)                  AS last_attempt_at
FROM l LEFT JOIN per_lead p ON p.lead_id = l.id
ORDER BY l.id

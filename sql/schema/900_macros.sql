-- Shared building blocks of the report SQL, replaced on every start.

-- The calls a report may see: the caller's accounts, the [from, to) window on started_at,
-- and the campaign / agent / team filters (NULL means "no filter"). The team filter is
-- the agent's current team, as the telesales UI groups agents.
CREATE OR REPLACE MACRO window_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  SELECT * FROM calls
  WHERE account_id BETWEEN list_min(p_accounts) AND list_max(p_accounts) AND list_contains(p_accounts, account_id)
    AND started_at >= p_from AND started_at < p_to
    AND (p_campaign IS NULL OR campaign_id = p_campaign)
    AND (p_agents IS NULL OR list_contains(p_agents, agent_id))
    AND (p_team IS NULL OR agent_id IN (SELECT id FROM agents WHERE team_id = p_team));

-- The calls of the call detail: window_calls and its direction / status filters.
CREATE OR REPLACE MACRO detail_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team, p_direction, p_status) AS TABLE
  SELECT * FROM window_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team)
  WHERE (p_direction IS NULL OR direction = p_direction)
    AND (p_status IS NULL OR status = p_status);

-- Local wall-clock time of a 15-minute UTC slot. Every IANA offset is a multiple of
-- 15 minutes, so converting slots (a few thousand per window) instead of rows gives the
-- same buckets as converting every call.
CREATE OR REPLACE MACRO slot_local(p_slot, p_tz) AS timezone(p_tz, to_timestamp(p_slot::BIGINT * 900));

-- The lead set L of the funnel and lead-source reports: non-deleted leads in scope (and
-- campaign) created in [from, to), from the lead_activity roll-up.
CREATE OR REPLACE MACRO window_leads(p_accounts, p_from, p_to, p_campaign) AS TABLE
  SELECT lead_id AS id, * FROM lead_activity
  WHERE account_id BETWEEN list_min(p_accounts) AND list_max(p_accounts) AND list_contains(p_accounts, account_id)
    AND created_at >= p_from AND created_at < p_to
    AND deleted_at IS NULL
    AND (p_campaign IS NULL OR campaign_id = p_campaign);

-- Each lead of L with the funnel stages its calls in the window reached. A regular lead
-- reached a stage in the window when its first call of that stage started before `to`
-- (see sql/schema/003_lead_activity.sql); irregular leads, and every lead when agent or
-- team filters narrow the calls, are read from window_calls.
CREATE OR REPLACE MACRO lead_stages(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  -- window_leads is read by each branch rather than shared through a CTE: a shared one is
  -- materialised (1.7M leads for 90 days of the largest account), 1.3× slower at p50.
  WITH by_calls AS (
    SELECT id FROM window_leads(p_accounts, p_from, p_to, p_campaign) WHERE irregular OR p_agents IS NOT NULL OR p_team IS NOT NULL
  ), from_calls AS (
    SELECT lead_id,
      bool_or(is_dial)                      AS dialed,
      bool_or(is_dial AND is_answered)      AS connected,
      bool_or(is_dial AND talk_sec > 30)    AS talked,
      bool_or(disposition_code IS NOT NULL) AS disposed,
      bool_or(is_dial AND is_conversion)    AS converted
    FROM window_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team)
    WHERE lead_id IN (SELECT id FROM by_calls)
    GROUP BY lead_id
  )
  SELECT id, source,
    coalesce(first_dial < p_to, false)    AS dialed,
    coalesce(first_connect < p_to, false) AS connected,
    coalesce(first_talk < p_to, false)    AS talked,
    coalesce(first_dispose < p_to, false) AS disposed,
    coalesce(first_convert < p_to, false) AS converted
  FROM window_leads(p_accounts, p_from, p_to, p_campaign)
  WHERE NOT (irregular OR p_agents IS NOT NULL OR p_team IS NOT NULL)
  UNION ALL
  SELECT l.id, l.source,
    coalesce(c.dialed, false), coalesce(c.connected, false), coalesce(c.talked, false),
    coalesce(c.disposed, false), coalesce(c.converted, false)
  FROM window_leads(p_accounts, p_from, p_to, p_campaign) l JOIN by_calls b ON b.id = l.id LEFT JOIN from_calls c ON c.lead_id = l.id;

-- A window [from, to) on a 15-minute roll-up is its whole slots, read from the roll-up,
-- and at most two partial slots at its ends, grouped from the calls by the roll-up's own
-- definition (`<roll-up>_of`, src/sync/rollups.ts): a bound inside a slot counts the calls
-- from that instant to the millisecond, never from the slot's start. The bounds are
-- scalar macros, inlined as constants that DuckDB prunes row groups with.
-- The whole slots: slot15 in [ceil(from), floor(to)).
CREATE OR REPLACE MACRO whole_slots(p_slot, p_from, p_to) AS
  p_slot >= ceil(epoch(p_from) / 900) AND p_slot < floor(epoch(p_to) / 900);
-- The end of the partial slot at the start: the first slot boundary at or after from, or to.
CREATE OR REPLACE MACRO head_slot_end(p_from, p_to) AS
  least(p_to, make_timestamp(ceil(epoch(p_from) / 900)::BIGINT * 900000000));
-- The start of the partial slot at the end: the last slot boundary at or before to, or from
-- (never before the head's end, so a window inside one slot is counted once).
CREATE OR REPLACE MACRO tail_slot_start(p_from, p_to) AS
  greatest(p_from, make_timestamp(greatest(ceil(epoch(p_from) / 900), floor(epoch(p_to) / 900))::BIGINT * 900000000));

-- The accounts of a scope, as a condition on a row's account_id.
CREATE OR REPLACE MACRO in_scope(p_account, p_accounts) AS
  p_account BETWEEN list_min(p_accounts) AND list_max(p_accounts) AND list_contains(p_accounts, p_account);

-- The call_slots rows of [from, to) a report may see: window_calls' scope and filters.
CREATE OR REPLACE MACRO window_slots(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  SELECT * FROM (
    SELECT * FROM call_slots WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to)
    UNION ALL SELECT * FROM call_slots_of(p_accounts, p_from, head_slot_end(p_from, p_to))
    UNION ALL SELECT * FROM call_slots_of(p_accounts, tail_slot_start(p_from, p_to), p_to)
  )
  WHERE (p_campaign IS NULL OR campaign_id = p_campaign)
    AND (p_agents IS NULL OR list_contains(p_agents, agent_id))
    AND (p_team IS NULL OR agent_id IN (SELECT id FROM agents WHERE team_id = p_team));

-- The caller_slots rows of [from, to) in scope, whole slots and partial ends alike.
CREATE OR REPLACE MACRO window_caller_slots(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM caller_slots WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to)
  UNION ALL SELECT * FROM caller_slots_of(p_accounts, p_from, head_slot_end(p_from, p_to))
  UNION ALL SELECT * FROM caller_slots_of(p_accounts, tail_slot_start(p_from, p_to), p_to);

-- The disposition_slots rows of [from, to) in scope, whole slots and partial ends alike.
CREATE OR REPLACE MACRO window_disposition_slots(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM disposition_slots WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to)
  UNION ALL SELECT * FROM disposition_slots_of(p_accounts, p_from, head_slot_end(p_from, p_to))
  UNION ALL SELECT * FROM disposition_slots_of(p_accounts, tail_slot_start(p_from, p_to), p_to);

-- The caller-ID health figures per caller ID over [from, to): from caller_slots, or from
-- the calls when an agent or team filter needs them.
-- The branch not taken folds to an empty one, its condition being known at bind time.
CREATE OR REPLACE MACRO caller_figures(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  SELECT caller_id_id,
    sum(dials)::BIGINT AS total_calls, sum(answered)::BIGINT AS answered_calls,
    sum(answered_talk_sec)::BIGINT AS answered_talk_sec, sum(short_calls)::BIGINT AS short_calls,
    sum(rejected_calls)::BIGINT AS rejected_calls
  FROM window_caller_slots(p_accounts, p_from, p_to)
  WHERE p_agents IS NULL AND p_team IS NULL
    AND (p_campaign IS NULL OR campaign_id = p_campaign)
  GROUP BY caller_id_id
  UNION ALL
  SELECT caller_id_id,
    count(*), count(*) FILTER (WHERE is_answered),
    coalesce(sum(talk_sec) FILTER (WHERE is_answered), 0),
    count(*) FILTER (WHERE is_answered AND talk_sec < 10),
    count(*) FILTER (WHERE status IN ('rejected', 'busy'))
  FROM window_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team)
  WHERE (p_agents IS NOT NULL OR p_team IS NOT NULL) AND is_dial AND caller_id_id IS NOT NULL
  GROUP BY caller_id_id;

-- A stored UTC time as ISO 8601 in a timezone, with its offset: 2026-11-01T01:30:00.000-04:00.
CREATE OR REPLACE MACRO iso_local(p_ts, p_tz) AS
  CASE WHEN p_ts IS NOT NULL THEN
    strftime(timezone(p_tz, p_ts AT TIME ZONE 'UTC'), '%Y-%m-%dT%H:%M:%S.%g')
    || CASE WHEN epoch(timezone(p_tz, p_ts AT TIME ZONE 'UTC')) < epoch(p_ts) THEN '-' ELSE '+' END
    || strftime(TIMESTAMP '2000-01-01' + to_seconds(abs(epoch(timezone(p_tz, p_ts AT TIME ZONE 'UTC')) - epoch(p_ts))::BIGINT), '%H:%M')
  END;

-- The same text from a zone_offsets bucket of the time: its shift and offset text, so
-- a row costs one strftime (formatting the offset per row too cost 0.75 s per million
-- calls); a bucket the offset changes in (`steady` false) goes through iso_local.
CREATE OR REPLACE MACRO iso_zoned(p_ts, p_zone_steady, p_zone_shift, p_zone_suffix, p_tz) AS
  CASE WHEN p_zone_steady THEN strftime(p_ts + p_zone_shift, '%Y-%m-%dT%H:%M:%S.%g') || p_zone_suffix ELSE iso_local(p_ts, p_tz) END;

-- The UTC offset of a timezone for every 15-minute UTC bucket of [p_lo, p_hi], as an
-- interval to add (`shift`) and as ISO text (`suffix`, -04:00): a few hundred lookups for
-- a page of 50,000 calls instead of three per call. A bucket whose offset changes inside
-- it (`steady` false) is left to iso_local.
CREATE OR REPLACE MACRO zone_offsets(p_tz, p_lo, p_hi) AS TABLE
  SELECT bucket, steady, to_seconds(off) AS shift,
    CASE WHEN off < 0 THEN '-' ELSE '+' END || strftime(TIMESTAMP '2000-01-01' + to_seconds(abs(off)), '%H:%M') AS suffix
  FROM (
    SELECT bucket,
      (epoch(timezone(p_tz, bucket AT TIME ZONE 'UTC')) - epoch(bucket))::INTEGER AS off,
      (epoch(timezone(p_tz, bucket AT TIME ZONE 'UTC')) - epoch(bucket)) =
        (epoch(timezone(p_tz, (bucket + INTERVAL 15 MINUTE) AT TIME ZONE 'UTC')) - epoch(bucket + INTERVAL 15 MINUTE)) AS steady
    FROM range(time_bucket(INTERVAL 15 MINUTE, p_lo), p_hi + INTERVAL 15 MINUTE, INTERVAL 15 MINUTE) r(bucket)
  );

-- The position (from 1) of a time's 15-minute bucket among buckets that start at p_b0.
CREATE OR REPLACE MACRO zone_bucket(p_b0, p_ts) AS
  (epoch_us(time_bucket(INTERVAL 15 MINUTE, p_ts)) - epoch_us(p_b0)) // 900000000 + 1;

-- The same text with the zone's buckets as lists from p_b0 on (the first bucket), so the
-- bucket of a time is an index, not a join: three joins on the buckets held about 15 MB
-- of hash tables per slice of an export, whatever the slice's size.
CREATE OR REPLACE MACRO iso_zoned_in(p_ts, p_b0, p_steady, p_shift, p_suffix, p_tz) AS
  iso_zoned(p_ts, p_steady[zone_bucket(p_b0, p_ts)], p_shift[zone_bucket(p_b0, p_ts)], p_suffix[zone_bucket(p_b0, p_ts)], p_tz);

-- Inbound calls of the widgets: scope and the [from, to) window on started_at.
CREATE OR REPLACE MACRO window_inbound(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM window_calls(p_accounts, p_from, p_to, NULL, NULL, NULL) WHERE direction = 'inbound';

-- call_groups of the caller's accounts over [from, to): whole slots from the roll-up, and
-- the partial slots at either end (a window ending "now" rarely falls on a slot boundary)
-- grouped from the calls by call_groups_of, the roll-up's own definition. The bounds are
-- written out, not shared through a CTE, so they stay constants DuckDB prunes row groups with.
CREATE OR REPLACE MACRO window_call_groups(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM call_groups WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to)
  UNION ALL SELECT * FROM call_groups_of(p_accounts, p_from, head_slot_end(p_from, p_to))
  UNION ALL SELECT * FROM call_groups_of(p_accounts, tail_slot_start(p_from, p_to), p_to);

-- The ledger of the caller's accounts over [from, to) as (account_id, slot15, kind,
-- credits): whole slots from ledger_slots, the partial end slots from the ledger's rows.
CREATE OR REPLACE MACRO window_ledger(p_accounts, p_from, p_to) AS TABLE
  SELECT account_id, slot15, kind, credits FROM ledger_slots
  WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to)
  UNION ALL
  SELECT account_id, floor(epoch(created_at) / 900)::INTEGER, kind, credits FROM credit_transactions
  WHERE in_scope(account_id, p_accounts) AND created_at >= p_from AND created_at < head_slot_end(p_from, p_to)
  UNION ALL
  SELECT account_id, floor(epoch(created_at) / 900)::INTEGER, kind, credits FROM credit_transactions
  WHERE in_scope(account_id, p_accounts) AND created_at >= tail_slot_start(p_from, p_to) AND created_at < p_to;

-- The partner roll-up's calls (blocked excluded) by account, UTC day, direction and
-- product: everything the partner dashboard and analytics sum, a few rows per day, from
-- call_groups (a slot never straddles a UTC day).
CREATE OR REPLACE MACRO partner_call_groups(p_accounts, p_from, p_to) AS TABLE
  SELECT account_id, strftime(day, '%Y-%m-%d') AS day, direction, product, total_calls, answered_calls, talk_sec, cost
  FROM (
    SELECT account_id, make_timestamp(slot15::BIGINT * 900000000)::DATE AS day, direction, product,
      sum(calls)::BIGINT AS total_calls,
      sum(answered)::BIGINT AS answered_calls,
      sum(talk_sec)::BIGINT AS talk_sec,
      sum(cost) AS cost
    FROM window_call_groups(p_accounts, p_from, p_to)
    WHERE status <> 'blocked'
    GROUP BY ALL
  );

-- Each account of the scope with its billing month [m_from, m_to) as UTC instants: the
-- month `p_month` (YYYY-MM) cut at local midnights of the account's own timezone, and as
-- 15-minute slots [s_from, s_to) when both ends fall on one (every offset in use since
-- 1972 is a multiple of 15 minutes; older local mean times are not, and `aligned` is
-- false then).
CREATE OR REPLACE MACRO billing_accounts(p_accounts, p_month) AS TABLE
  SELECT *, epoch(m_from) % 900 = 0 AND epoch(m_to) % 900 = 0 AS aligned,
    floor(epoch(m_from) / 900)::BIGINT AS s_from, floor(epoch(m_to) / 900)::BIGINT AS s_to
  FROM (
    SELECT id AS account_id, auth_id, name, timezone,
      timezone(timezone, strptime(p_month || '-01', '%Y-%m-%d'))::TIMESTAMP AS m_from,
      timezone(timezone, strptime(p_month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH)::TIMESTAMP AS m_to
    FROM accounts WHERE list_contains(p_accounts, id)
  );

-- The billing_issues of each account's month (in its timezone).
CREATE OR REPLACE MACRO billing_month_issues(p_accounts, p_month) AS TABLE
  SELECT i.* FROM billing_issues i
  JOIN billing_accounts(p_accounts, p_month) a ON i.account_id = a.account_id AND i."at" >= a.m_from AND i."at" < a.m_to;

-- The mismatched rows of each account's month, as the mismatch reports show them.
CREATE OR REPLACE MACRO billing_mismatch_rows(p_accounts, p_month) AS TABLE
  SELECT account_id, problem, ref_type, ref_id, ledger_id,
    strftime("at", '%Y-%m-%dT%H:%M:%S.%gZ') AS occurred_at,
    record_credits::DECIMAL(18,4)::VARCHAR AS record_credits,
    charged::DECIMAL(18,4)::VARCHAR AS charged_credits,
    (coalesce(record_credits, 0) - charged)::DECIMAL(18,4)::VARCHAR AS difference
  FROM billing_month_issues(p_accounts, p_month);

-- Readers of the roll-ups (src/store/rollup-defs.ts): a window's whole slots from the
-- roll-up, its partial end slots from the rows, grouped by the roll-up's own definition.
-- Loaded on every start, in file order (a macro is bound when it is created, so one
-- that uses another comes after it).

-- A window's whole slots, in schema `aligned`: all a window whose bounds both fall on
-- 15-minute slot boundaries reads, having no partial end slots. Report reads whose every
-- bound date-time is on a slot boundary run on connections whose search path is
-- `aligned, main` (Store.allWindowed), where these replace the full readers below, also
-- inside other macros (caller_figures, partner_call_groups): DuckDB binds the partial
-- branches on every run even when they are empty, and binding is about half of a
-- report's time. The full readers add the partial end slots to these.
CREATE SCHEMA IF NOT EXISTS aligned;

CREATE OR REPLACE MACRO aligned.window_slots(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  SELECT * FROM call_slots
  WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to)
    AND (p_campaign IS NULL OR campaign_id = p_campaign)
    AND (p_agents IS NULL OR list_contains(p_agents, agent_id))
    AND (p_team IS NULL OR agent_id IN (SELECT id FROM agents WHERE team_id = p_team));

CREATE OR REPLACE MACRO aligned.window_caller_slots(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM caller_slots WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to);

CREATE OR REPLACE MACRO aligned.window_disposition_slots(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM disposition_slots WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to);

CREATE OR REPLACE MACRO aligned.window_call_groups(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM call_groups WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to);

CREATE OR REPLACE MACRO aligned.window_ledger(p_accounts, p_from, p_to) AS TABLE
  SELECT account_id, slot15, kind, credits FROM ledger_slots
  WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to);

-- The call_slots rows of [from, to) a report may see: window_calls' scope and filters.
CREATE OR REPLACE MACRO window_slots(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  SELECT * FROM aligned.window_slots(p_accounts, p_from, p_to, p_campaign, p_agents, p_team)
  UNION ALL
  SELECT * FROM (
    SELECT * FROM call_slots_of(p_accounts, p_from, head_slot_end(p_from, p_to))
    UNION ALL SELECT * FROM call_slots_of(p_accounts, tail_slot_start(p_from, p_to), p_to)
  )
  WHERE (p_campaign IS NULL OR campaign_id = p_campaign)
    AND (p_agents IS NULL OR list_contains(p_agents, agent_id))
    AND (p_team IS NULL OR agent_id IN (SELECT id FROM agents WHERE team_id = p_team));

-- The caller_slots rows of [from, to) in scope, whole slots and partial ends alike.
CREATE OR REPLACE MACRO window_caller_slots(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM aligned.window_caller_slots(p_accounts, p_from, p_to)
  UNION ALL SELECT * FROM caller_slots_of(p_accounts, p_from, head_slot_end(p_from, p_to))
  UNION ALL SELECT * FROM caller_slots_of(p_accounts, tail_slot_start(p_from, p_to), p_to);

-- The disposition_slots rows of [from, to) in scope, whole slots and partial ends alike.
CREATE OR REPLACE MACRO window_disposition_slots(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM aligned.window_disposition_slots(p_accounts, p_from, p_to)
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

-- call_groups of the caller's accounts over [from, to): whole slots from the roll-up, and
-- the partial slots at either end (a window ending "now" rarely falls on a slot boundary)
-- grouped from the calls by call_groups_of, the roll-up's own definition. The bounds are
-- written out, not shared through a CTE, so they stay constants DuckDB prunes row groups with.
CREATE OR REPLACE MACRO window_call_groups(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM aligned.window_call_groups(p_accounts, p_from, p_to)
  UNION ALL SELECT * FROM call_groups_of(p_accounts, p_from, head_slot_end(p_from, p_to))
  UNION ALL SELECT * FROM call_groups_of(p_accounts, tail_slot_start(p_from, p_to), p_to);

-- The ledger of the caller's accounts over [from, to) as (account_id, slot15, kind,
-- credits): whole slots from ledger_slots, the partial end slots from the ledger's rows.
CREATE OR REPLACE MACRO window_ledger(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM aligned.window_ledger(p_accounts, p_from, p_to)
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

-- The funnel's lead set L (window_leads) counted per source: the leads, and how many of
-- them reached each stage through calls in the window. A regular lead reached a stage in
-- the window when its first call of that stage started before `to` (see
-- sql/schema/003_lead_activity.sql), so its counts come from
--   * the window's whole slots: lead_slots' leads and stages ever reached, less the stages
--     first reached at or after `to`, read from lead_activity only from the first whole
--     slot whose last_stage_at is that late (a window ending now reads no lead);
--   * the partial slots at either end: lead_activity's rows. The end slot and the late
--     whole slots before it are one range of rows.
-- The calls count the rest (`by_calls`): every lead when an agent or team filter narrows
-- the calls, else the irregular ones, looked for only from the first slot lead_slots
-- counts any in. The branches not taken fold to empty ones, their conditions being known
-- at bind time; each window bound is written out so DuckDB prunes row groups with it.
-- Macro calls are few on purpose: binding them is most of this query's time.
CREATE OR REPLACE MACRO lead_counts(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  WITH by_calls AS MATERIALIZED (
    SELECT id, source FROM window_leads(p_accounts, p_from, p_to, p_campaign)
    WHERE p_agents IS NOT NULL OR p_team IS NOT NULL OR (irregular AND created_at >= coalesce((
      SELECT make_timestamp(min(slot15)::BIGINT * 900000000) FROM lead_slots
      WHERE in_scope(account_id, p_accounts) AND slot15 >= floor(epoch(p_from) / 900) AND slot15 < ceil(epoch(p_to) / 900)
        AND (p_campaign IS NULL OR campaign_id = p_campaign) AND irregular > 0), p_to))
  )
  SELECT source, leads, dialed, connected, talked, disposed, converted
  FROM lead_slots
  WHERE p_agents IS NULL AND p_team IS NULL
    AND in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to)
    AND (p_campaign IS NULL OR campaign_id = p_campaign)
  UNION ALL
  SELECT source, count(*),
    count(*) FILTER (WHERE first_dial < p_to), count(*) FILTER (WHERE first_connect < p_to),
    count(*) FILTER (WHERE first_talk < p_to), count(*) FILTER (WHERE first_dispose < p_to),
    count(*) FILTER (WHERE first_convert < p_to)
  FROM window_leads(p_accounts, p_from, head_slot_end(p_from, p_to), p_campaign)
  WHERE p_agents IS NULL AND p_team IS NULL AND NOT irregular
  GROUP BY source
  UNION ALL
  SELECT source, count(*) FILTER (WHERE edge),
    count(*) FILTER (WHERE edge AND first_dial < p_to) - count(*) FILTER (WHERE NOT edge AND first_dial >= p_to),
    count(*) FILTER (WHERE edge AND first_connect < p_to) - count(*) FILTER (WHERE NOT edge AND first_connect >= p_to),
    count(*) FILTER (WHERE edge AND first_talk < p_to) - count(*) FILTER (WHERE NOT edge AND first_talk >= p_to),
    count(*) FILTER (WHERE edge AND first_dispose < p_to) - count(*) FILTER (WHERE NOT edge AND first_dispose >= p_to),
    count(*) FILTER (WHERE edge AND first_convert < p_to) - count(*) FILTER (WHERE NOT edge AND first_convert >= p_to)
  FROM (
    SELECT *, created_at >= tail_slot_start(p_from, p_to) AS edge
    FROM window_leads(p_accounts, head_slot_end(p_from, p_to), p_to, p_campaign)
    WHERE p_agents IS NULL AND p_team IS NULL AND NOT irregular
      AND created_at >= least(tail_slot_start(p_from, p_to), coalesce((
        SELECT make_timestamp(min(slot15)::BIGINT * 900000000) FROM lead_slots
        WHERE in_scope(account_id, p_accounts) AND whole_slots(slot15, p_from, p_to)
          AND (p_campaign IS NULL OR campaign_id = p_campaign) AND last_stage_at >= p_to), p_to))
  )
  GROUP BY source
  UNION ALL
  SELECT l.source, count(*),
    count(*) FILTER (WHERE c.dialed), count(*) FILTER (WHERE c.connected), count(*) FILTER (WHERE c.talked),
    count(*) FILTER (WHERE c.disposed), count(*) FILTER (WHERE c.converted)
  FROM by_calls l
  LEFT JOIN (
    SELECT lead_id,
      bool_or(is_dial)                      AS dialed,
      bool_or(is_dial AND is_answered)      AS connected,
      bool_or(is_dial AND talk_sec > 30)    AS talked,
      bool_or(disposition_code IS NOT NULL) AS disposed,
      bool_or(is_dial AND is_conversion)    AS converted
    FROM window_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team)
    WHERE lead_id IN (SELECT id FROM by_calls)
    GROUP BY lead_id
  ) c ON c.lead_id = l.id
  GROUP BY l.source;

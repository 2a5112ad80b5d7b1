-- Shared building blocks of the report SQL, replaced on every start.

-- The calls a report may see: the caller's accounts, the [from, to) window on started_at,
-- and the campaign / agent / team filters (NULL means "no filter"). The team filter is
-- the agent's current team, as the telesales UI groups agents.
CREATE OR REPLACE MACRO window_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  SELECT * FROM calls
  WHERE account_id IN (SELECT unnest(p_accounts))
    AND started_at >= p_from AND started_at < p_to
    AND (p_campaign IS NULL OR campaign_id = p_campaign)
    AND (p_agents IS NULL OR list_contains(p_agents, agent_id))
    AND (p_team IS NULL OR agent_id IN (SELECT id FROM agents WHERE team_id = p_team));

-- Local wall-clock time of a 15-minute UTC slot. Every IANA offset is a multiple of
-- 15 minutes, so converting slots (a few thousand per window) instead of rows gives the
-- same buckets as converting every call.
CREATE OR REPLACE MACRO slot_local(p_slot, p_tz) AS timezone(p_tz, to_timestamp(p_slot::BIGINT * 900));

-- The lead set L of the funnel and lead-source reports: non-deleted leads in scope (and
-- campaign) created in [from, to).
CREATE OR REPLACE MACRO window_leads(p_accounts, p_from, p_to, p_campaign) AS TABLE
  SELECT * FROM leads
  WHERE account_id IN (SELECT unnest(p_accounts))
    AND created_at >= p_from AND created_at < p_to
    AND deleted_at IS NULL
    AND (p_campaign IS NULL OR campaign_id = p_campaign);

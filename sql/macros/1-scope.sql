-- The scope and window filters of the report SQL: which rows a caller may see.
-- Loaded on every start, in file order (a macro is bound when it is created, so one
-- that uses another comes after it).

-- The accounts of a scope, as a condition on a row's account_id.
CREATE OR REPLACE MACRO in_scope(p_account, p_accounts) AS
  p_account BETWEEN list_min(p_accounts) AND list_max(p_accounts) AND list_contains(p_accounts, p_account);

-- The calls a report may see: the caller's accounts, the [from, to) window on started_at,
-- and the campaign / agent / team filters (NULL means "no filter"). The team filter is
-- the agent's current team, as the telesales UI groups agents.
CREATE OR REPLACE MACRO window_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team) AS TABLE
  SELECT * FROM calls
  WHERE in_scope(account_id, p_accounts)
    AND started_at >= p_from AND started_at < p_to
    AND (p_campaign IS NULL OR campaign_id = p_campaign)
    AND (p_agents IS NULL OR list_contains(p_agents, agent_id))
    AND (p_team IS NULL OR agent_id IN (SELECT id FROM agents WHERE team_id = p_team));

-- The calls of the call detail: window_calls and its direction / status filters.
CREATE OR REPLACE MACRO detail_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team, p_direction, p_status) AS TABLE
  SELECT * FROM window_calls(p_accounts, p_from, p_to, p_campaign, p_agents, p_team)
  WHERE (p_direction IS NULL OR direction = p_direction)
    AND (p_status IS NULL OR status = p_status);

-- Inbound calls of the widgets: scope and the [from, to) window on started_at.
CREATE OR REPLACE MACRO window_inbound(p_accounts, p_from, p_to) AS TABLE
  SELECT * FROM window_calls(p_accounts, p_from, p_to, NULL, NULL, NULL) WHERE direction = 'inbound';

-- The lead set L of the funnel and lead-source reports: non-deleted leads in scope (and
-- campaign) created in [from, to), from the lead_activity roll-up.
CREATE OR REPLACE MACRO window_leads(p_accounts, p_from, p_to, p_campaign) AS TABLE
  SELECT lead_id AS id, * FROM lead_activity
  WHERE in_scope(account_id, p_accounts)
    AND created_at >= p_from AND created_at < p_to
    AND deleted_at IS NULL
    AND (p_campaign IS NULL OR campaign_id = p_campaign);

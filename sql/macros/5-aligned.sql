-- The window readers of 3-rollups.sql for a window whose bounds both fall on 15-minute
-- slot boundaries, in schema `aligned`. Such a window has no partial end slots, so each
-- is its whole slots alone: the same rows as the reader in `main`, without the two
-- branches that group the ends from the calls. DuckDB binds those branches on every
-- run even when they are empty, and binding is about half of a report's time.
-- Report reads whose every bound date-time is on a slot boundary run on connections
-- whose search path is `aligned, main` (Store.allWindowed); the macros here then
-- replace their namesakes, also inside other macros (caller_figures,
-- partner_call_groups). Loaded on every start, after the macros they stand in for.
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

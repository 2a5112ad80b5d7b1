-- The analytical store. Tables mirror SOURCE.md with DuckDB types; times are UTC
-- TIMESTAMPs. Derived columns (is_dial, is_answered, is_conversion, slot15) are set by
-- the sync so reports filter on booleans instead of re-deriving them per row.

CREATE TABLE partners (
  id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, email VARCHAR,
  created_at TIMESTAMP, updated_at TIMESTAMP
);

CREATE TABLE accounts (
  id BIGINT PRIMARY KEY, partner_id BIGINT, auth_id VARCHAR NOT NULL, name VARCHAR NOT NULL,
  email VARCHAR, phone VARCHAR, is_active BOOLEAN NOT NULL, timezone VARCHAR NOT NULL,
  created_at TIMESTAMP, updated_at TIMESTAMP
);

CREATE TABLE teams (id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, name VARCHAR NOT NULL, updated_at TIMESTAMP);

CREATE TABLE agents (
  id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, team_id BIGINT, name VARCHAR NOT NULL, username VARCHAR NOT NULL,
  created_at TIMESTAMP, updated_at TIMESTAMP, deleted_at TIMESTAMP
);

CREATE TABLE campaigns (
  id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, name VARCHAR NOT NULL, description VARCHAR,
  type VARCHAR NOT NULL, status VARCHAR NOT NULL, abandon_limit_pct DECIMAL(18,4) NOT NULL,
  created_at TIMESTAMP, updated_at TIMESTAMP, deleted_at TIMESTAMP
);

-- Fact tables carry no PRIMARY KEY: the sync keeps ids unique (delete, then insert, in
-- one transaction). Maintaining an index over millions of ids made the first load take
-- a quarter longer and held gigabytes of memory, and no report looks a row up by id.
CREATE TABLE leads (
  id BIGINT NOT NULL, account_id BIGINT NOT NULL, campaign_id BIGINT NOT NULL, phone VARCHAR NOT NULL, source VARCHAR,
  created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP, deleted_at TIMESTAMP
);

CREATE TABLE dispositions (
  id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, code VARCHAR NOT NULL, label VARCHAR NOT NULL,
  category VARCHAR NOT NULL, color VARCHAR, is_conversion BOOLEAN NOT NULL, updated_at TIMESTAMP
);

CREATE TABLE caller_ids (
  id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, cid VARCHAR NOT NULL, display_name VARCHAR,
  carrier VARCHAR NOT NULL, cli_type VARCHAR NOT NULL, pool_status VARCHAR NOT NULL, cooldown_until TIMESTAMP,
  daily_cap BIGINT NOT NULL, updated_at TIMESTAMP
);

CREATE TABLE phone_numbers (
  id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL, phone_number VARCHAR NOT NULL, sid VARCHAR, rate DECIMAL(18,4),
  capabilities VARCHAR, acquired_at TIMESTAMP NOT NULL, released_at TIMESTAMP, updated_at TIMESTAMP
);

CREATE TABLE calls (
  id BIGINT NOT NULL, account_id BIGINT NOT NULL, campaign_id BIGINT, lead_id BIGINT, agent_id BIGINT,
  caller_id_id BIGINT, direction VARCHAR NOT NULL, product VARCHAR NOT NULL, from_number VARCHAR, to_number VARCHAR,
  origin VARCHAR, attribution VARCHAR, status VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL,
  answered_at TIMESTAMP, ended_at TIMESTAMP, talk_sec INTEGER NOT NULL, wrap_sec INTEGER NOT NULL,
  message_sec INTEGER, playback_sec INTEGER, disposition_code VARCHAR, credits DECIMAL(18,4) NOT NULL,
  cost DECIMAL(18,4) NOT NULL, updated_at TIMESTAMP,
  is_dial BOOLEAN NOT NULL, is_answered BOOLEAN NOT NULL, is_conversion BOOLEAN NOT NULL,
  slot15 INTEGER NOT NULL  -- 15-minute UTC slot: epoch seconds / 900
);

CREATE TABLE sms_messages (
  id BIGINT NOT NULL, account_id BIGINT NOT NULL, campaign_id BIGINT, to_number VARCHAR, status VARCHAR NOT NULL,
  sent_at TIMESTAMP NOT NULL, segments INTEGER NOT NULL, credits DECIMAL(18,4) NOT NULL, cost DECIMAL(18,4) NOT NULL,
  updated_at TIMESTAMP
);

CREATE TABLE credit_transactions (
  id BIGINT NOT NULL, account_id BIGINT NOT NULL, kind VARCHAR NOT NULL, credits DECIMAL(18,4) NOT NULL,
  amount DECIMAL(18,4), ref_type VARCHAR, ref_id BIGINT, created_at TIMESTAMP NOT NULL
);

-- Watermarks live beside the facts so one transaction moves both.
CREATE TABLE sync_state (
  table_name VARCHAR PRIMARY KEY,
  cursor_ms BIGINT,          -- epoch ms of the newest updated_at read (NULL for id cursors)
  cursor_id BIGINT NOT NULL, -- id of that row, or the highest id for append-only tables
  rows_loaded BIGINT NOT NULL DEFAULT 0,
  synced_at TIMESTAMP
);

-- Quarantined source rows: kept with the reason and the row as read.
CREATE TABLE rejects (
  table_name VARCHAR NOT NULL, source_id VARCHAR, reason VARCHAR NOT NULL, raw JSON NOT NULL,
  raw_hash UBIGINT NOT NULL, first_seen TIMESTAMP NOT NULL, last_seen TIMESTAMP NOT NULL, seen_count BIGINT NOT NULL,
  PRIMARY KEY (table_name, raw_hash)
);

CREATE TABLE store_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
INSERT INTO store_meta VALUES ('data_version', '0');

-- Snapshots of the abandon-rate monitor; breaches feed the abandon-rate report.
CREATE TABLE abandon_snapshots (
  campaign_id BIGINT NOT NULL, account_id BIGINT NOT NULL, snapshot_at TIMESTAMP NOT NULL,
  attempts_total BIGINT NOT NULL, attempts_abandoned BIGINT NOT NULL, limit_pct DECIMAL(18,4) NOT NULL,
  breached BOOLEAN NOT NULL,
  PRIMARY KEY (campaign_id, snapshot_at)
);

-- Roll-ups for the company dashboard, campaign reports and billing (docs/reports.md), kept
-- equal to the facts by the sync (src/sync/rollups.ts) in the transaction that changes
-- them, like call_slots.

-- Calls per account, 15-minute UTC slot, campaign, direction, product and status: every
-- count, duration, money and playback figure those reports sum. A window that is not a
-- whole number of slots takes its two partial slots from the calls (window_call_groups).
CREATE TABLE call_groups (
  account_id       BIGINT NOT NULL,
  slot15           INTEGER NOT NULL,
  campaign_id      BIGINT,
  direction        VARCHAR NOT NULL,
  product          VARCHAR NOT NULL,
  status           VARCHAR NOT NULL,
  calls            INTEGER NOT NULL,
  answered         INTEGER NOT NULL,      -- calls with answered_at
  talk_sec         BIGINT NOT NULL,       -- talk of answered calls
  billable_minutes BIGINT NOT NULL,       -- Σ ⌈talk / 60⌉ of answered calls
  -- A group's sums fit 14 integer digits; 64-bit decimals scan about twice as fast as 128-bit.
  cost             DECIMAL(18,4) NOT NULL,
  credits          DECIMAL(18,4) NOT NULL,
  messages         INTEGER NOT NULL,      -- calls with a message (message_sec > 0)
  messages_played  INTEGER NOT NULL,      -- of those, played at all
  playback_sec     BIGINT NOT NULL,       -- playback of calls with a message (null = 0)
  playback_pct_sum DOUBLE NOT NULL,       -- Σ playback × 100 / message_sec
  pct_0_25         INTEGER NOT NULL,
  pct_25_50        INTEGER NOT NULL,
  pct_50_75        INTEGER NOT NULL,
  pct_75_100       INTEGER NOT NULL
);

-- The credit ledger per account, 15-minute UTC slot and kind: balances at any slot
-- boundary (every local midnight is one) without reading the ledger's rows.
CREATE TABLE ledger_slots (
  account_id BIGINT NOT NULL,
  slot15     INTEGER NOT NULL,
  kind       VARCHAR NOT NULL,
  credits    DECIMAL(18,4) NOT NULL,
  n          INTEGER NOT NULL
);

-- Every billing mismatch of the store, whatever the month: a call or SMS whose credits
-- the ledger's usage rows do not match (`at` = the record's time; ledger_id NULL), and
-- each usage row that names no record of its account (`at` = the row's time). A month's
-- reconciliation filters these instead of matching millions of records to the ledger.
CREATE TABLE billing_issues (
  account_id     BIGINT NOT NULL,
  problem        VARCHAR NOT NULL, -- record_without_usage | credits_differ | usage_without_record
  ref_type       VARCHAR,
  ref_id         BIGINT,
  ledger_id      BIGINT,
  "at"           TIMESTAMP NOT NULL,
  record_credits DECIMAL(18,4),
  charged        DECIMAL(38,4) NOT NULL
);

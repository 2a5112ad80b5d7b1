-- Calls rolled up per account, 15-minute UTC slot, campaign and agent; maintained by the
-- sync (src/sync/rollups.ts) in the same transaction as the calls it summarises. Every
-- IANA offset is a multiple of 15 minutes, so any local day, week or hour is a whole
-- number of slots and the reports that need only these figures never touch a call row.
CREATE TABLE call_slots (
  account_id  BIGINT NOT NULL,
  slot15      INTEGER NOT NULL,
  campaign_id BIGINT,
  agent_id    BIGINT,
  dials       INTEGER NOT NULL, -- outbound, not blocked
  answers     INTEGER NOT NULL, -- dials answered
  talk_sec    BIGINT NOT NULL,  -- talk of answered dials
  handle_sec  BIGINT NOT NULL,  -- talk + wrap of answered dials
  conversions INTEGER NOT NULL, -- dials with a converting disposition
  blocked     INTEGER NOT NULL  -- outbound calls blocked before dialling
);

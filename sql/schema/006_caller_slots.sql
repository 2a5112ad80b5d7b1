-- Dials per account, 15-minute UTC slot, campaign and caller ID, with the figures of the
-- caller-ID health report; maintained by the sync (src/sync/rollups.ts) with call_slots.
-- Agent and team filters need the calls themselves (see caller_figures).
CREATE TABLE caller_slots (
  account_id        BIGINT NOT NULL,
  slot15            INTEGER NOT NULL,
  campaign_id       BIGINT,
  caller_id_id      BIGINT NOT NULL,
  dials             INTEGER NOT NULL,
  answered          INTEGER NOT NULL,
  answered_talk_sec BIGINT NOT NULL,
  short_calls       INTEGER NOT NULL, -- answered with less than 10 s of talk
  rejected_calls    INTEGER NOT NULL  -- rejected or busy
);

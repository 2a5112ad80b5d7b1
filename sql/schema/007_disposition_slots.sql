-- Disposed calls per account, 15-minute UTC slot, campaign and disposition code, for the
-- disposition breakdown (4.4M disposed calls of 10M → 874k rows); maintained by the sync
-- (src/sync/rollups.ts) with call_slots. Agent and team filters need the calls themselves.
CREATE TABLE disposition_slots (
  account_id       BIGINT NOT NULL,
  slot15           INTEGER NOT NULL,
  campaign_id      BIGINT,
  disposition_code VARCHAR NOT NULL,
  calls            INTEGER NOT NULL
);

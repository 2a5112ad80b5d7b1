-- The non-deleted leads of lead_activity per account, 15-minute UTC slot of created_at,
-- campaign and source (4.7M leads → 1.3M rows): how many regular ones there are, how many
-- of them ever reached each funnel stage and the latest first-stage time among them, and
-- how many irregular ones. The funnel
-- and lead-source reports sum a window's whole slots from here (lead_counts in
-- sql/macros/3-rollups.sql); maintained by the sync (src/sync/rollups.ts) with lead_activity.
CREATE TABLE lead_slots (
  account_id    BIGINT NOT NULL,
  slot15        INTEGER NOT NULL,
  campaign_id   BIGINT NOT NULL,
  source        VARCHAR,
  leads         INTEGER NOT NULL,
  dialed        INTEGER NOT NULL,
  connected     INTEGER NOT NULL,
  talked        INTEGER NOT NULL,
  disposed      INTEGER NOT NULL,
  converted     INTEGER NOT NULL,
  last_stage_at TIMESTAMP, -- the latest first_* time of the regular leads
  irregular     INTEGER NOT NULL
);

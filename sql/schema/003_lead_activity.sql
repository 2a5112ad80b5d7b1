-- One row per lead with the start of its first call of each funnel stage; maintained by
-- the sync (src/sync/rollups.ts). A lead is regular when all its calls belong to its own
-- account and campaign and none precedes its creation. For a regular lead created in a
-- window [from, to), "a call of stage S in the window" is exactly "first S call < to",
-- since that call cannot start before the lead did. Irregular leads, and requests
-- filtered by agent or team, are computed from the calls themselves.
CREATE TABLE lead_activity (
  lead_id       BIGINT NOT NULL,
  account_id    BIGINT NOT NULL,
  campaign_id   BIGINT NOT NULL,
  source        VARCHAR,
  created_at    TIMESTAMP NOT NULL,
  deleted_at    TIMESTAMP,
  irregular     BOOLEAN NOT NULL,
  first_dial    TIMESTAMP, -- dial
  first_connect TIMESTAMP, -- answered dial
  first_talk    TIMESTAMP, -- dial with more than 30 s of talk
  first_dispose TIMESTAMP, -- any call with a disposition
  first_convert TIMESTAMP  -- any call with a converting disposition
);

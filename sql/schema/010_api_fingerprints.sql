-- The last seen state of each thing a platform's HTTP API shows (src/sync/platform-sync.ts):
-- the API has no change marks, so a thing is loaded again only when its fingerprint changes.
CREATE TABLE IF NOT EXISTS api_fingerprints (kind VARCHAR, id BIGINT, fingerprint VARCHAR, first_seen VARCHAR, PRIMARY KEY (kind, id));

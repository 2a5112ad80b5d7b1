-- Where each call and each quarantined row came from. `calls.loaded_from` is the path
-- that loaded the call ('source': the database sync, 'platform': the platform's HTTP API,
-- 'cdr': a CDR file); a CDR row may replace only a call a CDR file loaded, of the same
-- account (src/sync/load-sql.ts). Calls stored before this column are of unknown origin
-- (NULL), which a CDR row never replaces. `rejects.loaded_by` names the sync run or the
-- CDR file of the row's latest sighting.
ALTER TABLE calls ADD COLUMN loaded_from VARCHAR;
ALTER TABLE rejects ADD COLUMN loaded_by VARCHAR;

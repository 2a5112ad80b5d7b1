-- Inbound calls per distinct caller (from_number) of the window.
SELECT count(*) AS calls, count(DISTINCT from_number) AS callers
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)

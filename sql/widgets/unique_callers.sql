-- Distinct caller numbers of the window's inbound calls.
SELECT count(DISTINCT from_number) AS callers
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)

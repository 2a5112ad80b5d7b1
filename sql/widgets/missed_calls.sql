-- Inbound calls of the window nobody answered.
SELECT count(*) FILTER (WHERE NOT is_answered) AS missed
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)

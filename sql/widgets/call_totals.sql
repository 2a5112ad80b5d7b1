-- Inbound calls of the window.
SELECT count(*) AS calls
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)

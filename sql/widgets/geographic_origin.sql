-- The ten caller origins with the most inbound calls; an unknown origin is Unknown.
SELECT coalesce(origin, 'Unknown') AS name, count(*) AS val
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)
GROUP BY 1
ORDER BY val DESC, name
LIMIT 10

-- The five marketing sources with the most inbound calls; a call without one is Direct.
SELECT coalesce(attribution, 'Direct') AS name, count(*) AS val
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)
GROUP BY 1
ORDER BY val DESC, name
LIMIT 5

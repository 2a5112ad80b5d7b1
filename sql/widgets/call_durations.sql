-- Talk of the answered inbound calls of the window; the declaration takes the mean.
SELECT coalesce(sum(talk_sec) FILTER (WHERE is_answered), 0) AS talk_sec, count(*) FILTER (WHERE is_answered) AS answered
FROM window_inbound($accounts, $from::TIMESTAMP, $to::TIMESTAMP)

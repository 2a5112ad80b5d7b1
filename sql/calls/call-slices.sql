-- Where an export of the call detail cuts its window into time slices: the start (epoch
-- ms) of each slice after the first, so that each holds about $slice_rows calls. The
-- calls are counted per minute of started_at (a slice holds whole minutes) and a minute
-- opens a new slice when the calls before it cross the next multiple of $slice_rows, so a
-- slice holds fewer than $slice_rows plus one minute's calls, whatever the hour.
WITH minutes AS (
  SELECT epoch_ms(started_at) // 60000 * 60000 AS minute_at, count(*) AS n
  FROM detail_calls($accounts, $from::TIMESTAMP, $to::TIMESTAMP, $campaign_id, $agent_ids, $team_id, $direction, $status)
  GROUP BY ALL
),
placed AS (
  SELECT minute_at, coalesce(sum(n) OVER (ORDER BY minute_at ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
  FROM minutes
)
SELECT min(minute_at) AS cut
FROM placed
GROUP BY before // $slice_rows
-- The first slice starts at the window's start, whatever its first minute.
HAVING before // $slice_rows > 0
ORDER BY cut

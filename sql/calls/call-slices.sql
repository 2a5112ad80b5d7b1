-- Where an export of the call detail cuts its window into time slices: the start (epoch
-- ms) of each slice after the first, so that each holds about $slice_rows calls. The
-- calls are counted per 15-minute slot from the call_groups roll-up, with the request's
-- campaign, direction and status; a slot opens a new slice when the calls before it
-- cross the next multiple of $slice_rows, so a slice holds whole slots and fewer than
-- $slice_rows plus one slot's calls. The counts only place the cuts, and the slices tile
-- the window whatever they hold: the partial slots at the window's ends count their
-- calls outside it too, and an agent or team filter (not in the roll-up) leaves slices
-- smaller than the target, never larger. Counting the calls themselves read the whole
-- window's rows before the first slice, and DuckDB kept those blocks cached.
WITH slots AS (
  SELECT slot15, sum(calls) AS n
  FROM call_groups
  WHERE in_scope(account_id, $accounts)
    AND slot15 >= floor(epoch($from::TIMESTAMP) / 900) AND slot15 < ceil(epoch($to::TIMESTAMP) / 900)
    AND ($campaign_id IS NULL OR campaign_id = $campaign_id)
    AND ($direction IS NULL OR direction = $direction)
    AND ($status IS NULL OR status = $status)
  GROUP BY slot15
),
placed AS (
  SELECT slot15, coalesce(sum(n) OVER (ORDER BY slot15 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
  FROM slots
)
SELECT min(slot15)::BIGINT * 900000 AS cut
FROM placed
GROUP BY before // $slice_rows
-- The first slice starts at the window's start, whatever its first slot.
HAVING before // $slice_rows > 0
ORDER BY cut

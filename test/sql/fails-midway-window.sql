-- Test only (test/export/failure.test.ts): a report paged by time slices, as the call
-- detail is, with a row a minute; every slice from 2026-11-03 on fails, long after the
-- first slices went out.
SELECT n, 'ok' AS s, strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS _k
FROM (SELECT range AS n, TIMESTAMP '2026-11-01' + to_seconds(range * 60) AS ts FROM range(60 * 24 * 30))
WHERE ts >= $from::TIMESTAMP AND ts < $to::TIMESTAMP
  AND CASE WHEN $from::TIMESTAMP >= TIMESTAMP '2026-11-03' THEN error('boom') ELSE true END
ORDER BY ts, n
LIMIT $limit

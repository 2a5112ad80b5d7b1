-- Test only (test/export/failure.test.ts, read from sql/ as ../test/sql/…): a keyset
-- report whose pages fail once the export is past row 5,000, long after the first rows
-- went out.
SELECT range AS n, 'ok' AS s, strftime(TIMESTAMP '2026-01-01' + to_seconds(range), '%Y-%m-%dT%H:%M:%S.%fZ') AS _k
FROM range(20000)
WHERE ($after_started IS NULL OR range > $after_id)
  AND CASE WHEN coalesce($after_id, 0) >= 5000 THEN error('boom') ELSE true END
ORDER BY range
LIMIT $limit

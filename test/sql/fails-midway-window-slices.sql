-- Test only (test/export/failure.test.ts): where fails-midway-window's exports cut their
-- window, a slice per $slice_rows of its rows (one a minute).
SELECT epoch_ms(TIMESTAMP '2026-11-01' + to_seconds(range * 60)) AS cut
FROM range($slice_rows, 60 * 24 * 30, $slice_rows)

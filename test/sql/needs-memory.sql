-- Test only (test/export/out-of-memory.test.ts, read from sql/ as ../test/sql/…): one
-- list of 20M numbers, which needs about 160 MB that DuckDB cannot spill to disk.
SELECT count(*) AS n, sum(len(l)) AS s FROM (SELECT list(range) AS l FROM range(20000000))

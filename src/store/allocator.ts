/**
 * How the jemalloc built into libduckdb keeps the memory DuckDB frees. With its defaults
 * (8 arenas on 2 cores, threads spread over them, freed pages kept for a second) the
 * memory one query frees on one thread stays resident while the next query, on another
 * thread, takes fresh pages: resident memory grows with the time an export runs, not with
 * its rows. Here every thread shares one arena, so a query reuses what the one before it
 * freed, and pages unused for 200 ms go back to the system (at once, not lazily: lazily
 * freed pages count as resident until the kernel wants them). jemalloc reads this once,
 * as libduckdb loads, so this module is imported before `@duckdb/node-api`; a
 * `DUCKDB_JE_MALLOC_CONF` set in the environment wins (empty: jemalloc's defaults).
 */
export const DUCKDB_ALLOCATOR_CONF = 'narenas:1,dirty_decay_ms:200,muzzy_decay_ms:0';

process.env.DUCKDB_JE_MALLOC_CONF ??= DUCKDB_ALLOCATOR_CONF;

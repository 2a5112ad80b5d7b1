/**
 * How DuckDB's own allocator (the jemalloc built into libduckdb) hands freed memory back.
 * With its defaults, freed pages stay resident for a second or more, so the memory an
 * export frees and takes again slice after slice piles up, and a long export peaks well
 * above a short one. Here freed pages go back to the system within 250 ms, through
 * jemalloc's background thread (the store turns it on: `allocator_background_threads`),
 * also while the store is idle. jemalloc reads this once, as libduckdb loads, so this
 * module is imported before `@duckdb/node-api`; a `DUCKDB_JE_MALLOC_CONF` set in the
 * environment wins.
 */
export const DUCKDB_ALLOCATOR_CONF = 'dirty_decay_ms:250,muzzy_decay_ms:0,background_thread:true';

process.env.DUCKDB_JE_MALLOC_CONF ??= DUCKDB_ALLOCATOR_CONF;

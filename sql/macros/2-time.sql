-- Time: local wall-clock buckets of 15-minute UTC slots, ISO 8601 texts in a timezone,
-- and how a window [from, to) splits into whole slots and partial ends.
-- Loaded on every start, in file order (a macro is bound when it is created, so one
-- that uses another comes after it).

-- Local wall-clock time of a 15-minute UTC slot. Every IANA offset is a multiple of
-- 15 minutes, so converting slots (a few thousand per window) instead of rows gives the
-- same buckets as converting every call.
CREATE OR REPLACE MACRO slot_local(p_slot, p_tz) AS timezone(p_tz, to_timestamp(p_slot::BIGINT * 900));

-- A window [from, to) on a 15-minute roll-up is its whole slots, read from the roll-up,
-- and at most two partial slots at its ends, grouped from the calls by the roll-up's own
-- definition (`<roll-up>_of`, src/sync/rollups.ts): a bound inside a slot counts the calls
-- from that instant to the millisecond, never from the slot's start. The bounds are
-- scalar macros, inlined as constants that DuckDB prunes row groups with.
-- The whole slots: slot15 in [ceil(from), floor(to)).
CREATE OR REPLACE MACRO whole_slots(p_slot, p_from, p_to) AS
  p_slot >= ceil(epoch(p_from) / 900) AND p_slot < floor(epoch(p_to) / 900);
-- The end of the partial slot at the start: the first slot boundary at or after from, or to.
CREATE OR REPLACE MACRO head_slot_end(p_from, p_to) AS
  least(p_to, make_timestamp(ceil(epoch(p_from) / 900)::BIGINT * 900000000));
-- The start of the partial slot at the end: the last slot boundary at or before to, or from
-- (never before the head's end, so a window inside one slot is counted once).
CREATE OR REPLACE MACRO tail_slot_start(p_from, p_to) AS
  greatest(p_from, make_timestamp(greatest(ceil(epoch(p_from) / 900), floor(epoch(p_to) / 900))::BIGINT * 900000000));

-- A stored UTC time as ISO 8601 in a timezone, with its offset: 2026-11-01T01:30:00.000-04:00.
CREATE OR REPLACE MACRO iso_local(p_ts, p_tz) AS
  CASE WHEN p_ts IS NOT NULL THEN
    strftime(timezone(p_tz, p_ts AT TIME ZONE 'UTC'), '%Y-%m-%dT%H:%M:%S.%g')
    || CASE WHEN epoch(timezone(p_tz, p_ts AT TIME ZONE 'UTC')) < epoch(p_ts) THEN '-' ELSE '+' END
    || strftime(TIMESTAMP '2000-01-01' + to_seconds(abs(epoch(timezone(p_tz, p_ts AT TIME ZONE 'UTC')) - epoch(p_ts))::BIGINT), '%H:%M')
  END;

-- The same text from a zone_offsets bucket of the time: its shift and offset text, so
-- a row costs one strftime (formatting the offset per row too cost 0.75 s per million
-- calls); a bucket the offset changes in (`steady` false) goes through iso_local.
CREATE OR REPLACE MACRO iso_zoned(p_ts, p_zone_steady, p_zone_shift, p_zone_suffix, p_tz) AS
  CASE WHEN p_zone_steady THEN strftime(p_ts + p_zone_shift, '%Y-%m-%dT%H:%M:%S.%g') || p_zone_suffix ELSE iso_local(p_ts, p_tz) END;

-- The UTC offset of a timezone for every 15-minute UTC bucket of [p_lo, p_hi], as an
-- interval to add (`shift`) and as ISO text (`suffix`, -04:00): a few hundred lookups for
-- a page of 50,000 calls instead of three per call. A bucket whose offset changes inside
-- it (`steady` false) is left to iso_local.
CREATE OR REPLACE MACRO zone_offsets(p_tz, p_lo, p_hi) AS TABLE
  SELECT bucket, steady, to_seconds(off) AS shift,
    CASE WHEN off < 0 THEN '-' ELSE '+' END || strftime(TIMESTAMP '2000-01-01' + to_seconds(abs(off)), '%H:%M') AS suffix
  FROM (
    SELECT bucket,
      (epoch(timezone(p_tz, bucket AT TIME ZONE 'UTC')) - epoch(bucket))::INTEGER AS off,
      (epoch(timezone(p_tz, bucket AT TIME ZONE 'UTC')) - epoch(bucket)) =
        (epoch(timezone(p_tz, (bucket + INTERVAL 15 MINUTE) AT TIME ZONE 'UTC')) - epoch(bucket + INTERVAL 15 MINUTE)) AS steady
    FROM range(time_bucket(INTERVAL 15 MINUTE, p_lo), p_hi + INTERVAL 15 MINUTE, INTERVAL 15 MINUTE) r(bucket)
  );

-- The position (from 1) of a time's 15-minute bucket among buckets that start at p_b0.
CREATE OR REPLACE MACRO zone_bucket(p_b0, p_ts) AS
  (epoch_us(time_bucket(INTERVAL 15 MINUTE, p_ts)) - epoch_us(p_b0)) // 900000000 + 1;

-- The same text with the zone's buckets as lists from p_b0 on (the first bucket), so the
-- bucket of a time is an index, not a join: three joins on the buckets held about 15 MB
-- of hash tables per slice of an export, whatever the slice's size.
CREATE OR REPLACE MACRO iso_zoned_in(p_ts, p_b0, p_steady, p_shift, p_suffix, p_tz) AS
  iso_zoned(p_ts, p_steady[zone_bucket(p_b0, p_ts)], p_shift[zone_bucket(p_b0, p_ts)], p_suffix[zone_bucket(p_b0, p_ts)], p_tz);

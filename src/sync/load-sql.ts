import type { SourceColumn, SourceTable } from '../source/contract.ts';
import { stageColumns } from './stage.ts';

/**
 * The SQL that turns a filled stage into store rows: one CASE names the first broken
 * rule of each row (NULL when the row keeps the contract); kept rows are cast and
 * upserted, broken ones go to `rejects` with the row as read.
 */

const q = (name: string) => `"${name}"`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

function castExpr(c: SourceColumn, ref = q(c.name)): string {
  switch (c.kind) {
    case 'int': return `TRY_CAST(${ref} AS BIGINT)`;
    case 'decimal': return `TRY_CAST(${ref} AS DECIMAL(18,4))`;
    case 'time': return `TRY_CAST(${ref} AS TIMESTAMPTZ)::TIMESTAMP`;
    case 'bool': return `(${ref} = '1')`;
    case 'text': return ref;
  }
}

/** Rules beyond the column kinds, per table: [condition that breaks it, reason]. */
const EXTRA_RULES: Record<string, [string, string][]> = {
  accounts: [
    [`"timezone" IS NOT NULL AND "timezone" NOT IN (SELECT name FROM pg_timezone_names())`, `'unknown timezone: ' || "timezone"`],
    [`"partner_id" IS NOT NULL AND TRY_CAST("partner_id" AS BIGINT) NOT IN (SELECT id FROM partners)`, `'missing partner'`],
  ],
  caller_ids: [[`TRY_CAST("daily_cap" AS BIGINT) < 1`, `'daily_cap below 1'`]],
  calls: [
    [`TRY_CAST("talk_sec" AS BIGINT) < 0 OR TRY_CAST("wrap_sec" AS BIGINT) < 0`, `'negative duration'`],
    [
      `"disposition_code" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM dispositions d WHERE d.account_id = TRY_CAST(s."account_id" AS BIGINT) AND d.code = s."disposition_code")`,
      `'unknown disposition: ' || "disposition_code"`,
    ],
  ],
  sms_messages: [[`TRY_CAST("segments" AS BIGINT) < 0`, `'negative segments'`]],
};

function reasonExpr(t: SourceTable): string {
  const whens: string[] = [];
  for (const c of t.columns) {
    const ref = q(c.name);
    if (!c.nullable) whens.push(`WHEN ${ref} IS NULL THEN ${lit('missing ' + c.name)}`);
    if (c.kind === 'bool') whens.push(`WHEN ${ref} IS NOT NULL AND ${ref} NOT IN ('0', '1') THEN ${lit('bad boolean: ' + c.name)}`);
    else if (c.kind !== 'text') {
      const what = c.kind === 'time' ? 'time' : c.kind === 'int' ? 'integer' : 'decimal';
      whens.push(`WHEN ${ref} IS NOT NULL AND ${castExpr(c)} IS NULL THEN ${lit(`bad ${what}: ${c.name}`)}`);
    }
    if (c.domain) {
      const list = c.domain.map(lit).join(', ');
      whens.push(`WHEN ${ref} IS NOT NULL AND ${ref} NOT IN (${list}) THEN ${lit(`unknown ${c.name}: `)} || ${ref}`);
    }
  }
  if (t.accountScoped) whens.push(`WHEN TRY_CAST("account_id" AS BIGINT) NOT IN (SELECT id FROM accounts) THEN 'missing account'`);
  for (const [cond, reason] of EXTRA_RULES[t.name] ?? []) whens.push(`WHEN ${cond} THEN ${reason}`);
  return `CASE ${whens.join('\n    ')} END`;
}

/** Columns the store derives from a row, beyond the contract's. */
const DERIVED: Record<string, { columns: string[]; select: string[]; join?: string }> = {
  calls: {
    columns: ['is_dial', 'is_answered', 'is_conversion', 'slot15'],
    select: [
      `v.direction = 'outbound' AND v.status <> 'blocked'`,
      `v.answered_at IS NOT NULL`,
      `coalesce(d.is_conversion, false)`,
      `floor(epoch(v.started_at) / 900)::INTEGER`,
    ],
    join: `LEFT JOIN dispositions d ON d.account_id = v.account_id AND d.code = v.disposition_code`,
  },
};

const DEFAULTS: Record<string, Record<string, string>> = {
  accounts: { timezone: `'UTC'` },
  campaigns: { abandon_limit_pct: `3` },
};

export interface LoadStatements {
  /** Materialises the checked stage (`checked_<table>`) with a `_reason` column. */
  check: string;
  reject: string;
  upsert: string;
  /** Follow-up for derived columns that depend on this table (dispositions → calls). */
  after?: string;
}

export function loadStatements(t: SourceTable): LoadStatements {
  const checked = `checked_${t.name}`;
  const cols = t.columns.map((c) => q(c.name));
  const casts = t.columns.map((c) => {
    const d = DEFAULTS[t.name]?.[c.name];
    const e = castExpr(c);
    return `${d ? `coalesce(${e}, ${d})` : e} AS ${q(c.name)}`;
  });
  const derived = DERIVED[t.name];
  const raw = `to_json(struct_pack(${t.columns.map((c) => `${q(c.name)} := ${q(c.name)}`).join(', ')}))`;
  return {
    check: `CREATE OR REPLACE TEMP TABLE ${checked} AS SELECT s.*, ${reasonExpr(t)} AS _reason FROM ${stageColumns(t)} s`,
    reject: `INSERT INTO rejects (table_name, source_id, reason, raw, raw_hash, first_seen, last_seen, seen_count)
      SELECT ${lit(t.name)}, "id", _reason, ${raw}, hash(${raw}::VARCHAR), now()::TIMESTAMP, now()::TIMESTAMP, 1
      FROM ${checked} WHERE _reason IS NOT NULL
      ON CONFLICT (table_name, raw_hash) DO UPDATE SET last_seen = excluded.last_seen, seen_count = rejects.seen_count + 1, reason = excluded.reason`,
    upsert: `INSERT OR REPLACE INTO ${t.name} (${[...cols, ...(derived?.columns ?? [])].join(', ')})
      SELECT v.*${derived ? ', ' + derived.select.join(', ') : ''}
      FROM (SELECT ${casts.join(', ')} FROM ${checked} WHERE _reason IS NULL) v ${derived?.join ?? ''}`,
    after: t.name === 'dispositions'
      ? `UPDATE calls SET is_conversion = d.is_conversion FROM dispositions d
         WHERE calls.account_id = d.account_id AND calls.disposition_code = d.code AND calls.is_conversion <> d.is_conversion
           AND d.id IN (SELECT TRY_CAST("id" AS BIGINT) FROM ${checked} WHERE _reason IS NULL)`
      : undefined,
  };
}

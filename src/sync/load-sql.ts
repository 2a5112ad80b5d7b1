import type { SourceColumn, SourceTable } from '../source/contract.ts';
import {
  refreshBillingIssues, refreshCallSlots, refreshLeadActivity, refreshLedgerSlots, touchBilling, touchCallSlots, touchLeads,
  touchLedgerSlots,
} from './rollups.ts';
import { stageColumns } from './stage.ts';

// The SQL that turns a filled stage into store rows. The check pass casts every column
// once (`"<name>__v"`) next to the text the source gave, and one CASE names the first
// broken rule of each row (NULL when the row keeps the contract); the checked stage keeps
// the values to write and, for a reject, the row's JSON text. Parent lookups are joins,
// not per-row subqueries: DuckDB cannot decorrelate a subquery inside a CASE. Kept rows
// are upserted from the cast columns; broken ones go to `rejects` with the row as read.
// What each table needs beyond that is its recipe (RECIPES).

const q = (name: string) => `"${name}"`;
const v = (name: string) => `"${name}__v"`;
/** References into the cast row `r` of the check pass, which joins tables that share names. */
const rq = (name: string) => `r.${q(name)}`;
const rv = (name: string) => `r.${v(name)}`;
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

function castExpr(c: SourceColumn): string {
  const ref = q(c.name);
  switch (c.kind) {
    case 'int': return `TRY_CAST(${ref} AS BIGINT)`;
    case 'decimal': return `TRY_CAST(${ref} AS DECIMAL(18,4))`;
    // A UTC text (SQLite's `Z`, PostgreSQL's `+00:00`) parses as a plain TIMESTAMP in a
    // fifth of the time a TIMESTAMPTZ takes, to the same value; any other offset takes the
    // TIMESTAMPTZ path, which applies it.
    case 'time': return `CASE WHEN suffix(${ref}, 'Z') OR suffix(${ref}, '+00:00') THEN TRY_CAST(${ref} AS TIMESTAMP) ELSE TRY_CAST(${ref} AS TIMESTAMPTZ)::TIMESTAMP END`;
    // SQLite stores booleans as 0/1, PostgreSQL's JSON writes true/false.
    case 'bool': return `CASE WHEN ${ref} IN ('1', 'true') THEN true WHEN ${ref} IN ('0', 'false') THEN false END`;
    default: return ref;
  }
}

function reasonExpr(t: SourceTable, opts: LoadOptions, ranked: boolean): string {
  const whens: string[] = [];
  for (const c of t.columns) {
    const ref = rq(c.name);
    if (!c.nullable) whens.push(`WHEN ${ref} IS NULL THEN ${lit('missing ' + c.name)}`);
    if (c.kind !== 'text') {
      const what = { bool: 'boolean', time: 'time', int: 'integer', decimal: 'decimal' }[c.kind];
      whens.push(`WHEN ${ref} IS NOT NULL AND ${rv(c.name)} IS NULL THEN ${lit(`bad ${what}: ${c.name}`)}`);
    }
    if (c.domain) {
      const list = c.domain.map(lit).join(', ');
      whens.push(`WHEN ${ref} NOT IN (${list}) THEN ${lit(`unknown ${c.name}: `)} || ${ref}`);
    }
  }
  if (t.accountScoped) whens.push(`WHEN _a.id IS NULL THEN 'missing account'`);
  const recipe = recipeOf(t);
  for (const [cond, reason] of recipe.rules ?? []) whens.push(`WHEN ${cond} THEN ${reason}`);
  for (const [col, parent, alias] of recipe.references ?? []) {
    const noun = parent.replace(/s$/, '').replace('_', ' ');
    whens.push(`WHEN ${alias}.account_id <> ${rv('account_id')} THEN ${lit(`${noun} of another account: ${col} `)} || ${rq(col)}`);
  }
  if (t.name === 'calls' && !opts.deferRollups) whens.push(`WHEN _l.account_id <> ${rv('account_id')} THEN ${FOREIGN_LEAD('r."lead_id"')}`);
  if (t.name === 'calls' && opts.loadedFrom === 'cdr') {
    // A CDR row replaces only a call a CDR file loaded, of the same account: the id of a
    // call the sync loaded, or of another account's call, is another call.
    whens.push(`WHEN _x.id IS NOT NULL AND (_x.loaded_from IS DISTINCT FROM 'cdr' OR _x.account_id <> ${rv('account_id')})
      THEN 'id of an existing call ' || CASE WHEN _x.account_id <> ${rv('account_id')} THEN 'of another account' ELSE 'loaded from ' || coalesce(_x.loaded_from, 'an unknown origin') END`);
  }
  // Repeated ids in one batch (a CDR file may hold a call three times): the row with the
  // latest updated_at is kept, the last read on a tie, and the others are quarantined.
  if (ranked) whens.push(`WHEN r._rank > 1 THEN 'repeated id in the batch: a later row of id ' || ${rq('id')} || ' was kept'`);
  return `CASE ${whens.join('\n    ')} END`;
}

/** The reason of a call that names another account's lead, from the SQL of its lead id text. */
const FOREIGN_LEAD = (leadId: string) => `'lead of another account: lead_id ' || ${leadId}`;

/**
 * After a first load, before its roll-ups are built: every call naming another account's
 * lead goes to `rejects` (its stored values as the raw row) and leaves the store, as an
 * incremental batch's check quarantines it. `find` fills the temporary table
 * foreign_lead_calls (the one join of calls with leads), `apply` moves its calls; both are
 * idempotent, so a rebuild after a crash repeats them.
 */
export function quarantineForeignLeads(calls: SourceTable, loadedBy: string | null): { find: string; apply: string[] } {
  const text = (c: SourceColumn) => c.kind === 'time' ? `strftime(c.${q(c.name)}, '%Y-%m-%dT%H:%M:%S.%gZ')`
    : c.kind === 'bool' ? `CASE WHEN c.${q(c.name)} THEN '1' ELSE '0' END` : `c.${q(c.name)}::VARCHAR`;
  const raw = `to_json(struct_pack(${calls.columns.map((c) => `${q(c.name)} := ${text(c)}`).join(', ')}))`;
  return {
    find: `CREATE OR REPLACE TEMP TABLE foreign_lead_calls AS
      SELECT c.id, ${FOREIGN_LEAD('c.lead_id::VARCHAR')} AS reason, ${raw} AS raw
      FROM calls c JOIN (SELECT id, account_id FROM leads) l ON l.id = c.lead_id WHERE l.account_id <> c.account_id`,
    apply: [`INSERT INTO rejects (table_name, source_id, reason, raw, raw_hash, first_seen, last_seen, seen_count, loaded_by)
      SELECT 'calls', id::VARCHAR, reason, raw, hash(raw::VARCHAR), now()::TIMESTAMP, now()::TIMESTAMP, 1, ${loadedBy === null ? 'NULL' : lit(loadedBy)}
      FROM foreign_lead_calls
      ON CONFLICT (table_name, raw_hash) DO UPDATE SET last_seen = excluded.last_seen, seen_count = rejects.seen_count + 1`,
    `DELETE FROM calls WHERE id IN (SELECT id FROM foreign_lead_calls)`],
  };
}

/** The check's filter of rows an earlier run loaded; an unreadable time or id is kept, for the check to reject. */
function stale(t: SourceTable, since: LoadOptions['since']): string {
  if (t.cursor !== 'updated_at' || !since) return '';
  return `WHERE NOT coalesce((epoch_ms(${rv('updated_at')}), ${rv('id')}) <= (${Math.trunc(since.ms)}, ${Math.trunc(since.id)}), false)`;
}

/**
 * The watermark after a checked batch, as a SELECT of (cursor_ms, cursor_id): the latest
 * (time, id) among the batch's readable rows and the stored watermark, kept or rejected
 * alike, so a bad row is never read again.
 */
export function watermarkSql(t: SourceTable): string {
  return `SELECT ms, id FROM (
      SELECT epoch_ms("updated_at") AS ms, "id" AS id FROM ${checkedName(t)} WHERE "updated_at" IS NOT NULL AND "id" IS NOT NULL
      UNION ALL SELECT cursor_ms, cursor_id FROM sync_state WHERE table_name = ${lit(t.name)}
      UNION ALL SELECT NULL, 0)
    ORDER BY ms DESC NULLS LAST, id DESC LIMIT 1`;
}

/** The temporary table the check pass fills for a table's staged batch. */
export function checkedName(t: SourceTable): string {
  return `checked_${t.name}`;
}

/** Placeholder for the batch's id range, filled in per batch by the sync. */
export const ID_RANGE = '/*id-range*/ true';

export interface LoadStatements {
  /** Materialises the checked stage (`checked_<table>`) with a `_reason` column. */
  check: string;
  /**
   * The same, ranking the rows of a repeated id: only a batch that holds one pays for it
   * (ranking every batch cost a first load 6%).
   */
  checkRepeats: string;
  reject: string;
  /** Run before the upsert, while the store still holds the rows it replaces. */
  before: string[];
  /**
   * Replaces stored rows by id. `${ID_RANGE}` stands for a literal `id BETWEEN lo AND hi`
   * over the batch, which lets DuckDB skip the row groups of other ids.
   */
  upsert: string[];
  /** Follow-ups: derived columns and roll-ups that depend on this table. */
  after: string[];
}


/**
 * Everything the store does with one source table besides casting its columns: one object
 * per table (tables without an entry need none of it).
 */
interface Recipe {
  /** No primary key in the store (sql/schema/001_init.sql): an upsert deletes, then inserts. */
  fact?: boolean;
  /** The time the table's reports window on: a batch is written in that order, so a window's rows sit together. */
  clusterBy?: string;
  /** Values of columns the source may leave NULL. */
  defaults?: Record<string, string>;
  /**
   * What a row names that must belong to its own account: [column, parent table, alias].
   * A name of nothing stored (yet) is not checked.
   */
  references?: [string, string, string][];
  /** Lookups the rules need, as LEFT JOINs onto the cast row `r`. */
  joins?: string[];
  /** Rules beyond the column kinds: [condition that breaks it, reason]. */
  rules?: [string, string][];
  /** Columns the store derives from a row, beyond the contract's, computed in the check pass. */
  derived?: [string, string][];
  /**
   * Derived columns, with the joins they need, that a first load leaves NULL for its
   * closing pass (rebuildRollups), so its batches do not each join a large table.
   */
  deferred?: { joins: string[]; columns: [string, string][] };
  /** Some roll-up summarises the table: a first load marks the roll-ups pending. */
  rolledUp?: boolean;
  /** What an incremental batch changes beyond its own table, before and after the upsert. */
  dependents?: (checked: string, kept: string) => { before: string[]; after: string[] };
  /** What a first load's batch still does at once (the rest waits for the closing pass). */
  firstLoad?: (kept: string) => string[];
}

/** Calls whose disposition changed its conversion flag follow it. */
function updateConversions(kept: string): string {
  return `UPDATE calls SET is_conversion = d.is_conversion FROM dispositions d
    WHERE calls.account_id = d.account_id AND calls.disposition_code = d.code AND calls.is_conversion <> d.is_conversion
      AND d.id IN ${kept}`;
}

/** Calls follow their lead's source: a lead that changed it, or arrived after its calls. */
function updateLeadSources(checked: string): string {
  return `UPDATE calls SET lead_source = k.source FROM ${checked} k
    WHERE k._reason IS NULL AND calls.lead_id = k.id AND calls.lead_source IS DISTINCT FROM k.source`;
}

const RECIPES: Readonly<Record<string, Recipe>> = {
  accounts: {
    defaults: { timezone: `'UTC'` },
    joins: [`LEFT JOIN partners _p ON _p.id = ${rv('partner_id')}`],
    rules: [
      [`${rq('timezone')} IS NOT NULL AND ${rq('timezone')} NOT IN (SELECT name FROM pg_timezone_names())`, `'unknown timezone: ' || ${rq('timezone')}`],
      [`${rv('partner_id')} IS NOT NULL AND _p.id IS NULL`, `'missing partner'`],
    ],
  },
  agents: { references: [['team_id', 'teams', '_rt']] },
  campaigns: { defaults: { abandon_limit_pct: `3` } },
  leads: {
    fact: true, rolledUp: true,
    references: [['campaign_id', 'campaigns', '_rc']],
    dependents: (checked) => ({
      before: [],
      after: [updateLeadSources(checked), touchLeads(`SELECT id FROM ${checked} WHERE _reason IS NULL`), ...refreshLeadActivity()],
    }),
  },
  dispositions: {
    rolledUp: true,
    dependents: (_checked, kept) => {
      const changed = `FROM calls c JOIN dispositions d ON c.account_id = d.account_id AND c.disposition_code = d.code
        WHERE c.is_conversion <> d.is_conversion AND d.id IN ${kept}`;
      return {
        before: [],
        after: [
          touchCallSlots(`SELECT c.account_id, c.slot15 ${changed}`), touchLeads(`SELECT c.lead_id AS id ${changed}`),
          updateConversions(kept), ...refreshCallSlots(), ...refreshLeadActivity(),
        ],
      };
    },
    firstLoad: (kept) => [updateConversions(kept)],
  },
  caller_ids: { rules: [[`${rv('daily_cap')} < 1`, `'daily_cap below 1'`]] },
  calls: {
    fact: true, clusterBy: 'started_at', rolledUp: true,
    // The lead is looked up by the lead-source join (`deferred`), and after a first load by
    // quarantineForeignLeads: joining every first-load batch with the leads cost it 11%.
    references: [['campaign_id', 'campaigns', '_rc'], ['agent_id', 'agents', '_ra'], ['caller_id_id', 'caller_ids', '_ri']],
    joins: [`LEFT JOIN dispositions _d ON _d.account_id = ${rv('account_id')} AND _d.code = ${rq('disposition_code')}`],
    rules: [
      [`${rv('talk_sec')} < 0 OR ${rv('wrap_sec')} < 0`, `'negative duration'`],
      [`${rq('disposition_code')} IS NOT NULL AND _d.code IS NULL`, `'unknown disposition: ' || ${rq('disposition_code')}`],
    ],
    derived: [
      ['is_dial', `${rq('direction')} = 'outbound' AND ${rq('status')} <> 'blocked'`],
      ['is_answered', `${rv('answered_at')} IS NOT NULL`],
      ['is_conversion', `coalesce(_d.is_conversion, false)`],
      ['slot15', `floor(epoch(${rv('started_at')}) / 900)::INTEGER`],
    ],
    // A call's lead source stays NULL until its lead arrives; the lead's batch then sets it.
    deferred: { joins: [`LEFT JOIN (SELECT id, account_id, source FROM leads) _l ON _l.id = ${rv('lead_id')}`], columns: [['lead_source', '_l.source']] },
    dependents: (checked, kept) => ({
      before: [
        touchCallSlots(`SELECT account_id, slot15 FROM calls WHERE ${ID_RANGE} AND id IN ${kept}
          UNION ALL SELECT account_id, slot15 FROM ${checked} WHERE _reason IS NULL`),
        touchLeads(`SELECT lead_id AS id FROM calls WHERE ${ID_RANGE} AND id IN ${kept}
          UNION ALL SELECT lead_id AS id FROM ${checked} WHERE _reason IS NULL`),
        // Only a call that is new, or whose account, credits or start changed, can change
        // its billing issues: a late disposition or duration leaves them, and the ledger
        // is not scanned for it.
        ...touchBilling(`SELECT 'call' AS ref_type, k.id AS ref_id FROM ${checked} k
          LEFT JOIN (SELECT id, account_id, credits, started_at FROM calls WHERE ${ID_RANGE}) c ON c.id = k.id
          WHERE k._reason IS NULL AND (c.id IS NULL OR c.account_id <> k.account_id OR c.credits <> k.credits OR c.started_at <> k.started_at)`),
      ],
      after: [...refreshCallSlots(), ...refreshLeadActivity(), ...refreshBillingIssues()],
    }),
  },
  sms_messages: {
    fact: true, clusterBy: 'sent_at', rolledUp: true,
    references: [['campaign_id', 'campaigns', '_rc']],
    rules: [[`${rv('segments')} < 0`, `'negative segments'`]],
    dependents: (_checked, kept) => ({ before: [...touchBilling(`SELECT 'sms' AS ref_type, id AS ref_id FROM ${kept}`)], after: refreshBillingIssues() }),
  },
  credit_transactions: {
    fact: true, rolledUp: true,
    dependents: (checked, kept) => {
      // Before the upsert, so a replaced row's old slot and reference are refreshed too.
      const old = `FROM credit_transactions WHERE ${ID_RANGE} AND id IN ${kept}`;
      const now = `FROM ${checked} WHERE _reason IS NULL`;
      return {
        before: [
          touchLedgerSlots(`SELECT account_id, created_at ${old} UNION ALL SELECT account_id, created_at ${now}`),
          ...touchBilling(`SELECT ref_type, ref_id ${old} AND kind = 'usage' UNION ALL SELECT ref_type, ref_id ${now} AND kind = 'usage'`, `SELECT id ${now}`),
        ],
        after: [...refreshLedgerSlots(), ...refreshBillingIssues()],
      };
    },
  },
};

const recipeOf = (t: SourceTable): Recipe => RECIPES[t.name] ?? {};

/** The joins of a table's recipe: its own lookups and one per reference. */
function recipeJoins(r: Recipe): string[] {
  return [...(r.joins ?? []), ...(r.references ?? []).map(([col, parent, alias]) => `LEFT JOIN ${parent} ${alias} ON ${alias}.id = ${rv(col)}`)];
}

/** What a batch of a table changes beyond its own table. */
function dependents(t: SourceTable, checked: string, deferRollups: boolean): { before: string[]; after: string[] } {
  const r = recipeOf(t);
  const kept = `(SELECT id FROM ${checked} WHERE _reason IS NULL)`;
  if (deferRollups) {
    const pending = `INSERT OR REPLACE INTO store_meta (key, value) VALUES ('rollups_version', 'pending')`;
    return { before: [], after: r.rolledUp ? [...(r.firstLoad?.(kept) ?? []), pending] : [] };
  }
  return r.dependents?.(checked, kept) ?? { before: [], after: [] };
}

export interface LoadOptions {
  deferRollups?: boolean;
  /** The path that loads the batch, stored on each call (`loaded_from`). */
  loadedFrom?: 'source' | 'platform' | 'cdr';
  /** The sync run or CDR file, stored with each reject (`loaded_by`). */
  loadedBy?: string;
  /**
   * An incremental run's watermark: rows at or before it (by their time read as UTC, then
   * id) were loaded by an earlier run, and the check drops them. A run re-reads the
   * watermark's own second (see lowerBoundFor).
   */
  since?: { ms: number; id: number } | null;
}

export function loadStatements(t: SourceTable, opts: LoadOptions = {}): LoadStatements {
  const checked = checkedName(t);
  const casts = t.columns.filter((c) => c.kind !== 'text').map((c) => `${castExpr(c)} AS ${v(c.name)}`);
  const recipe = recipeOf(t);
  const deferred = recipe.deferred;
  const joins = [
    ...(t.accountScoped ? [`LEFT JOIN accounts _a ON _a.id = ${rv('account_id')}`] : []), ...recipeJoins(recipe),
    ...(deferred && !opts.deferRollups ? deferred.joins : []),
    ...(t.name === 'calls' && opts.loadedFrom === 'cdr' ? [`LEFT JOIN (SELECT id, account_id, loaded_from FROM calls) _x ON _x.id = ${rv('id')}`] : []),
  ];
  // The checked stage keeps only what the upsert writes (final values, derived columns)
  // plus, for the rare reject, the row's text: materialising both forms of every column
  // cost as much as the rest of the check.
  const values = t.columns.map((c) => {
    const d = recipe.defaults?.[c.name];
    const e = c.kind === 'text' ? rq(c.name) : rv(c.name);
    return `${d ? `coalesce(${e}, ${d})` : e} AS ${q(c.name)}`;
  });
  const derived = [
    ...(recipe.derived ?? []),
    ...(t.name === 'calls' ? [['loaded_from', lit(opts.loadedFrom ?? 'source')] as [string, string]] : []),
    ...(deferred?.columns ?? []).map(([n, e]): [string, string] => [n, opts.deferRollups ? 'NULL::VARCHAR' : e]),
  ];
  const names = [...t.columns.map((c) => q(c.name)), ...derived.map(([n]) => q(n))];
  const raw = `to_json(struct_pack(${t.columns.map((c, i) => `${q(c.name)} := l[${i + 1}]`).join(', ')}))`;
  const idAt = t.columns.findIndex((c) => c.name === 'id') + 1;
  const cast = `(SELECT s.*, ${casts.join(', ')} FROM ${stageColumns(t)} s)`;
  // The rank of a row among the batch's rows of its id, newest first (see reasonExpr).
  const newest = [...(t.columns.some((c) => c.name === 'updated_at') ? [`${v('updated_at')} DESC NULLS LAST`] : []), '_seq DESC'].join(', ');
  const ranked = `(SELECT *, CASE WHEN ${v('id')} IS NULL THEN 1 ELSE row_number() OVER (PARTITION BY ${v('id')} ORDER BY ${newest}) END AS _rank FROM ${cast})`;
  const check = (rank: boolean) => `CREATE OR REPLACE TEMP TABLE ${checked} AS
      SELECT * EXCLUDE (_line), CASE WHEN _reason IS NOT NULL THEN _line END AS _line FROM (
        SELECT ${[...values, ...derived.map(([n, e]) => `${e} AS ${q(n)}`), 'r._line', `${reasonExpr(t, opts, rank)} AS _reason`].join(', ')}
        FROM ${rank ? ranked : cast} r
        ${joins.join('\n        ')}
        ${stale(t, opts.since)})`;
  return {
    // The row's text is kept for rejects only: writing it for every row cost a fifth of the check.
    check: check(false),
    checkRepeats: check(true),
    // A row seen again (the same text) is one reject seen more often: the batch's copies are
    // grouped first, since one INSERT cannot update a row twice.
    reject: `INSERT INTO rejects (table_name, source_id, reason, raw, raw_hash, first_seen, last_seen, seen_count, loaded_by)
      SELECT ${lit(t.name)}, any_value(l[${idAt}]), any_value(_reason), any_value(${raw}), hash(${raw}::VARCHAR), now()::TIMESTAMP, now()::TIMESTAMP, count(*),
        ${opts.loadedBy === undefined ? 'NULL' : lit(opts.loadedBy)}
      FROM (SELECT _reason, from_json(_line, '["VARCHAR"]') AS l FROM ${checked} WHERE _reason IS NOT NULL)
      GROUP BY hash(${raw}::VARCHAR)
      ON CONFLICT (table_name, raw_hash) DO UPDATE SET last_seen = excluded.last_seen, seen_count = rejects.seen_count + excluded.seen_count,
        reason = excluded.reason, loaded_by = excluded.loaded_by`,
    upsert: recipe.fact
      ? [
        `DELETE FROM ${t.name} WHERE ${ID_RANGE} AND id IN (SELECT id FROM ${checked} WHERE _reason IS NULL)`,
        `INSERT INTO ${t.name} (${names.join(', ')}) SELECT ${names.join(', ')} FROM ${checked} WHERE _reason IS NULL${recipe.clusterBy ? ` ORDER BY ${q(recipe.clusterBy)}, id` : ''}`,
      ]
      : [`INSERT OR REPLACE INTO ${t.name} (${names.join(', ')}) SELECT ${names.join(', ')} FROM ${checked} WHERE _reason IS NULL`],
    ...dependents(t, checked, opts.deferRollups ?? false),
  };
}

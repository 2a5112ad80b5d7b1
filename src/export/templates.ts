import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { ReportDeclaration } from '../reports/declaration.ts';

/**
 * Per-customer export layouts. One file per account and report:
 *
 *   templates/<account_id>/<report>.json   (or .yaml / .yml)
 *   { "templates": { "scorecard": {
 *       "columns": [ { "key": "name", "label": "Agent" }, { "key": "answer_rate_pct", "numFmt": "0.0%" } ],
 *       "rules":   [ { "column": "answer_rate_pct", "op": "<", "value": 30, "color": "#C00000" } ] } } }
 *
 * `columns` picks and orders the report's columns (labels and number formats optional);
 * `rules` colour XLSX cells whose JSON value compares true (`value` in the JSON's units:
 * 30 means 30 % for a percentage). Every file is checked when the service starts; a bad
 * one stops it with the file and the problem named.
 */

export interface TemplateColumn {
  key: string;
  label?: string;
  numFmt?: string;
}

export type RuleOp = '<' | '<=' | '>' | '>=' | '=' | '!=';

export interface TemplateRule {
  column: string;
  op: RuleOp;
  value: number | string;
  /** Font colour, `#RRGGBB`. */
  color?: string;
  /** Fill colour, `#RRGGBB`. */
  fill?: string;
}

export interface ExportTemplate {
  name: string;
  columns: TemplateColumn[];
  rules: TemplateRule[];
}

export class TemplateError extends Error {}

const OPS: readonly RuleOp[] = ['<', '<=', '>', '>=', '=', '!='];
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const COLOR = /^#[0-9A-Fa-f]{6}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(o: Obj, keys: string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw new Error(`${where}: unknown key "${k}" (expected ${keys.join(', ')})`);
}

function parseTemplate(name: string, raw: unknown, decl: ReportDeclaration): ExportTemplate {
  const where = `template "${name}"`;
  if (!NAME.test(name)) throw new Error(`${where}: a name is letters, digits, _ or - (at most 64)`);
  if (!isObj(raw)) throw new Error(`${where}: expected an object with "columns" and optional "rules"`);
  only(raw, ['columns', 'rules'], where);
  const keys = new Set(decl.columns.map((c) => c.key));
  const known = [...keys].join(', ');
  if (!Array.isArray(raw.columns) || raw.columns.length === 0) throw new Error(`${where}: "columns" must be a non-empty list`);
  const seen = new Set<string>();
  const columns = raw.columns.map((c, i): TemplateColumn => {
    const at = `${where}, columns[${i}]`;
    const col = typeof c === 'string' ? { key: c } : c;
    if (!isObj(col)) throw new Error(`${at}: expected a column key or {key, label, numFmt}`);
    only(col, ['key', 'label', 'numFmt'], at);
    if (typeof col.key !== 'string' || !keys.has(col.key)) throw new Error(`${at}: "${String(col.key)}" is not a column of ${decl.name} (${known})`);
    if (seen.has(col.key)) throw new Error(`${at}: "${col.key}" is listed twice`);
    seen.add(col.key);
    if (col.label !== undefined && (typeof col.label !== 'string' || col.label.trim() === '')) throw new Error(`${at}: "label" must be a non-empty text`);
    if (col.numFmt !== undefined && (typeof col.numFmt !== 'string' || col.numFmt === '')) throw new Error(`${at}: "numFmt" must be an Excel number format text`);
    return { key: col.key, label: col.label as string | undefined, numFmt: col.numFmt as string | undefined };
  });
  const rawRules = raw.rules ?? [];
  if (!Array.isArray(rawRules)) throw new Error(`${where}: "rules" must be a list`);
  const rules = rawRules.map((r, i): TemplateRule => {
    const at = `${where}, rules[${i}]`;
    if (!isObj(r)) throw new Error(`${at}: expected {column, op, value, color and/or fill}`);
    only(r, ['column', 'op', 'value', 'color', 'fill'], at);
    if (typeof r.column !== 'string' || !seen.has(r.column)) throw new Error(`${at}: "column" must be one of the template's columns`);
    if (!OPS.includes(r.op as RuleOp)) throw new Error(`${at}: "op" must be one of ${OPS.join(' ')}`);
    if (typeof r.value !== 'number' && typeof r.value !== 'string') throw new Error(`${at}: "value" must be a number or a text`);
    for (const k of ['color', 'fill'] as const) {
      if (r[k] !== undefined && (typeof r[k] !== 'string' || !COLOR.test(r[k] as string))) throw new Error(`${at}: "${k}" must be #RRGGBB`);
    }
    if (r.color === undefined && r.fill === undefined) throw new Error(`${at}: give a "color" or a "fill"`);
    return { column: r.column, op: r.op as RuleOp, value: r.value, color: r.color as string | undefined, fill: r.fill as string | undefined };
  });
  return { name, columns, rules };
}

/** Every template of every account, loaded and checked once. */
export class TemplateStore {
  private constructor(private readonly byKey: Map<string, Map<string, ExportTemplate>>) {}

  static empty(): TemplateStore {
    return new TemplateStore(new Map());
  }

  /** Loads `dir` (missing: no templates). Throws a TemplateError naming the file and the problem. */
  static load(dir: string, reports: readonly ReportDeclaration[]): TemplateStore {
    const byKey = new Map<string, Map<string, ExportTemplate>>();
    if (!fs.existsSync(dir)) return new TemplateStore(byKey);
    for (const account of fs.readdirSync(dir, { withFileTypes: true })) {
      const accountDir = path.join(dir, account.name);
      if (!account.isDirectory()) throw new TemplateError(`${accountDir}: expected a directory per account id (templates/<account_id>/<report>.json)`);
      if (!/^[1-9]\d*$/.test(account.name)) throw new TemplateError(`${accountDir}: the directory name must be an account id`);
      for (const file of fs.readdirSync(accountDir)) {
        const full = path.join(accountDir, file);
        const m = /^(.+)\.(json|ya?ml)$/.exec(file);
        if (!m) throw new TemplateError(`${full}: a template file is <report>.json, .yaml or .yml`);
        const decl = reports.find((r) => r.name === m[1] && (r.exportable ?? r.result !== 'custom'));
        if (!decl) throw new TemplateError(`${full}: no exportable report is named "${m[1]}"`);
        const key = `${account.name}/${decl.name}`;
        if (byKey.has(key)) throw new TemplateError(`${full}: a second file for account ${account.name} and ${decl.name}`);
        try {
          const text = fs.readFileSync(full, 'utf8');
          const doc: unknown = m[2] === 'json' ? JSON.parse(text) : YAML.parse(text);
          if (!isObj(doc) || !isObj(doc.templates)) throw new Error('expected {"templates": {NAME: {...}}}');
          only(doc, ['templates'], 'the file');
          const named = new Map<string, ExportTemplate>();
          for (const [name, raw] of Object.entries(doc.templates)) named.set(name, parseTemplate(name, raw, decl));
          byKey.set(key, named);
        } catch (err) {
          throw new TemplateError(`${full}: ${(err as Error).message}`);
        }
      }
    }
    return new TemplateStore(byKey);
  }

  /** The names available to an account for a report. */
  names(accountId: number, report: string): string[] {
    return [...(this.byKey.get(`${accountId}/${report}`)?.keys() ?? [])];
  }

  get(accountId: number, report: string, name: string): ExportTemplate | undefined {
    return this.byKey.get(`${accountId}/${report}`)?.get(name);
  }
}

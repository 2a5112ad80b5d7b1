import type { CellKind, ColumnDecl, ReportDeclaration } from '../reports/declaration.ts';
import { cellValue } from '../reports/declaration.ts';
import type { ReportParams } from '../reports/params.ts';
import type { ResultRow } from '../store/duckdb.ts';
import type { ExportTemplate, TemplateRule } from './templates.ts';

/** One column of an export: what the header says, what kind of cell, how it is shown. */
export interface ExportColumn {
  readonly key: string;
  readonly label: string;
  readonly kind: CellKind;
  /** Excel number format (`numFmt`) of the cells. */
  readonly numFmt?: string;
  /** Column width in characters. */
  readonly width: number;
  readonly decl: ColumnDecl;
  /** The request's timezone: date-times with an offset are shown in it. */
  readonly zone: string;
  /** A template's colouring rules for this column (XLSX). */
  readonly rules?: readonly TemplateRule[];
}

/** The kind a column's cells get when the declaration does not say. */
function kindOf(col: ColumnDecl, p: ReportParams): CellKind {
  if (col.cell) return typeof col.cell === 'function' ? col.cell(p) : col.cell;
  const t = col.type;
  switch (t.kind) {
    case 'integer':
    case 'integer_string':
      return /(^|_)id$/.test(col.key) ? 'id' : 'integer';
    case 'ratio':
      return t.scale === 100 ? 'percent' : 'number';
    case 'decimal_number':
      return 'number';
    case 'duration':
      return 'duration';
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'text';
  }
}

function numFmtOf(kind: CellKind, col: ColumnDecl): string | undefined {
  const digits = col.type.kind === 'ratio' ? col.type.digits : 2;
  const decimals = digits > 0 ? '.' + '0'.repeat(digits) : '';
  switch (kind) {
    case 'integer': return '#,##0';
    case 'id': return '0';
    case 'number': return col.type.kind === 'ratio' ? `#,##0${decimals}` : '#,##0.00##';
    case 'percent': return `0${decimals}%`;
    case 'duration': return '[h]:mm:ss';
    case 'date': return 'yyyy-mm-dd';
    case 'datetime': return 'yyyy-mm-dd hh:mm:ss';
    default: return undefined;
  }
}

const WIDTH: Partial<Record<CellKind, number>> = { date: 12, datetime: 20, duration: 11, percent: 10, id: 10, boolean: 8 };

/** The generic layout of a report: every declared column, in order, as declared. */
export function genericLayout(decl: ReportDeclaration, p: ReportParams): ExportColumn[] {
  return decl.columns.map((col) => {
    const kind = kindOf(col, p);
    return { key: col.key, label: col.label, kind, numFmt: numFmtOf(kind, col), width: Math.max(col.label.length + 2, WIDTH[kind] ?? 14), decl: col, zone: p.timezone };
  });
}

/**
 * The layout of a customer template: its columns in its order, with its labels and
 * number formats over the generic ones, and its colouring rules.
 */
export function templateLayout(decl: ReportDeclaration, p: ReportParams, t: ExportTemplate): ExportColumn[] {
  const generic = new Map(genericLayout(decl, p).map((c) => [c.key, c]));
  return t.columns.map((tc) => {
    const g = generic.get(tc.key)!;
    const label = tc.label ?? g.label;
    const rules = t.rules.filter((r) => r.column === tc.key);
    return { ...g, label, numFmt: tc.numFmt ?? g.numFmt, width: Math.max(g.width, label.length + 2), rules: rules.length ? rules : undefined };
  });
}

/** Whether a rule holds for a JSON value (numbers compare as numbers, texts as texts). */
export function ruleHolds(r: TemplateRule, v: unknown): boolean {
  if (v === null || v === undefined) return false;
  const numeric = typeof r.value === 'number';
  const a = numeric ? Number(v) : String(v);
  if (numeric && Number.isNaN(a)) return false;
  const b = r.value;
  switch (r.op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '=': return a === b;
    case '!=': return a !== b;
  }
}

/** The JSON value of a column for a row, exactly as the JSON response has it. */
export function jsonValue(col: ExportColumn, row: ResultRow): unknown {
  return cellValue(row, col.decl);
}

/**
 * Cells that spreadsheets would evaluate: text beginning with `=`, `+`, `-`, `@`, tab or
 * carriage return (OWASP "CSV injection"). Numbers, negative ones included, and E.164
 * phone numbers are data, not formulas, and stay as they are.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const E164 = /^\+\d{6,15}$/;

export function isFormulaLike(text: string): boolean {
  return FORMULA_START.test(text) && !PLAIN_NUMBER.test(text) && !E164.test(text);
}

/** A text cell for CSV: formula-like text gets a leading apostrophe, which Excel and LibreOffice show as text. */
export function neutralise(text: string): string {
  return isFormulaLike(text) ? `'${text}` : text;
}

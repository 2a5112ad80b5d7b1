import { jsonSchemaOf, type ReportDeclaration } from '../reports/declaration.ts';
import { servedFormats } from '../reports/engine.ts';
import type { Format, ParamName } from '../reports/params.ts';
import { PARAMS } from '../reports/param-catalog.ts';
import { arr, int, obj, str, type Schema } from '../reports/schema.ts';

/**
 * The OpenAPI side of a route: its `schema` (parameters, answers, security), from which
 * @fastify/swagger builds the document. The schemas describe; they do not validate or
 * serialise (see app.ts): the parameter readers give the 422 texts, and the answers are
 * written as the report shapes them.
 */

export const ERROR = obj({ message: str() });
export const VALIDATION = obj({ message: str(), errors: { type: 'object', additionalProperties: arr(str()), description: 'one key per bad field' } });
export const json = (schema: Schema) => ({ 'application/json': { schema } });
export const UNAUTHORIZED = { description: 'missing or bad credentials', content: json(ERROR) };
export const FORBIDDEN = { description: 'not an admin', content: json(ERROR) };
export const INVALID = { description: 'invalid parameters', content: json(VALIDATION) };

/** The query string of a report: its parameters, with the export options its formats bring. */
export function querySchema(decl: ReportDeclaration, formats: readonly Format[], extra: Record<string, Schema> = {}, required: string[] = []): Schema {
  const names = new Set<string>(decl.params);
  if (formats.includes('csv')) names.add('bom');
  if (formats.some((f) => f !== 'json')) names.add('template');
  const properties: Record<string, Schema> = { ...extra };
  const req = [...required];
  for (const n of names) {
    const p = PARAMS[n as ParamName];
    let schema = p.schema;
    if (n === 'format') schema = str({ enum: [...formats], default: formats[0] });
    if (n === 'limit' && decl.keyset) schema = int({ minimum: 1, maximum: decl.keyset.maxLimit, default: decl.keyset.defaultLimit });
    properties[p.query ?? n] = { ...schema, description: p.doc };
    if (decl.required?.includes(n as ParamName)) req.push(p.query ?? n);
  }
  return { type: 'object', properties, required: req };
}

function rowSchema(decl: ReportDeclaration): Schema {
  return { type: 'object', properties: Object.fromEntries(decl.columns.map((c) => [c.key, { ...jsonSchemaOf(c), description: c.label }])) };
}

/** The JSON body of a report: `{data}` of rows or an object, or what a custom report declares. */
function jsonBody(decl: ReportDeclaration): Schema {
  if (decl.responseSchema) return decl.responseSchema;
  if (decl.keyset) return obj({ data: arr(rowSchema(decl)), next_cursor: { type: ['string', 'null'] } });
  if (decl.result === 'rows') return obj({ data: arr(rowSchema(decl)) });
  if (decl.result === 'object') return obj({ data: rowSchema(decl) });
  return obj({ data: { description: decl.title } });
}

const FILES: Record<Exclude<Format, 'json'>, Schema> = {
  csv: { 'text/csv': { schema: str({ description: 'RFC 4180 CSV' }) } },
  xlsx: { 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: str({ format: 'binary' }) } },
};

export const SECURITY = { bearer: [{ bearer: [] }], partner: [{ authId: [], authToken: [] }], none: [] } as const;

/** The route schema of a report's operation, as its endpoint declares it. */
export function reportSchema(decl: ReportDeclaration, opts: { formats?: readonly Format[]; body?: Schema; query?: Schema; file?: boolean } = {}): Schema {
  const ep = decl.endpoint!;
  const formats = opts.formats ?? servedFormats(decl);
  const content: Schema = {};
  if (formats.includes('json')) content['application/json'] = { schema: opts.body ?? jsonBody(decl) };
  for (const f of formats) if (f !== 'json') Object.assign(content, FILES[f]);
  const response: Schema = { 200: { description: decl.title, content } };
  response[401] = UNAUTHORIZED;
  for (const code of ep.errors ?? [404, 422]) {
    response[code] = code === 422
      ? INVALID
      : { description: code === 404 ? 'an id outside the scope' : 'bad request', content: json(code === 400 ? VALIDATION : ERROR) };
  }
  const operationId = `${decl.family}_${decl.name}`.replace(/[^A-Za-z0-9_]/g, '_');
  return {
    tags: [decl.family],
    summary: opts.file ? `${decl.title} (file)` : decl.title,
    operationId: opts.file ? `${operationId}_export` : operationId,
    ...(ep.description ? { description: ep.description } : {}),
    querystring: opts.query ?? querySchema(decl, formats),
    response,
    security: SECURITY[ep.auth],
  };
}

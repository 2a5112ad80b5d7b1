import { jsonSchemaOf, type ReportDeclaration } from '../reports/declaration.ts';
import { formatsOf } from '../reports/engine.ts';
import type { Format, ParamName } from '../reports/params.ts';
import { PARAMS } from '../reports/param-catalog.ts';
import { billingMismatchPage, billingReconciliation } from '../reports/billing/reconciliation.ts';
import { JOB_NAMES } from '../meta/job-runs.ts';
import { REJECT_TABLES } from '../store/rejects.ts';
import { callDetail } from '../reports/calls/call-detail.ts';
import { campaignDownload, campaignSummary } from '../reports/campaigns/campaigns.ts';
import { companyDashboard } from '../reports/company/dashboard.ts';
import { partnerAnalytics, partnerDashboard } from '../reports/partner/partner.ts';
import { WIDGETS } from '../reports/widgets/widgets.ts';
import { arr, bool, int, obj, str, type Schema } from '../reports/schema.ts';

/**
 * The OpenAPI 3.1 document, built from the report declarations (parameters, columns,
 * formats) and the list of routes below. test/http/openapi.test.ts checks that every
 * route the app registers is in it and that it validates.
 */

const ERROR = obj({ message: str() });
const VALIDATION = obj({ message: str(), errors: { type: 'object', additionalProperties: arr(str()), description: 'one key per bad field' } });


function parameters(decl: ReportDeclaration, formats: readonly Format[]): Schema[] {
  const names = new Set<string>(decl.params);
  if (formats.includes('csv')) names.add('bom');
  if (formats.some((f) => f !== 'json')) names.add('template');
  return [...names].map((n) => {
    const p = PARAMS[n as ParamName];
    let schema = p.schema;
    if (n === 'format') schema = str({ enum: [...formats], default: formats[0] });
    if (n === 'limit' && decl.keyset) schema = int({ minimum: 1, maximum: decl.keyset.maxLimit, default: decl.keyset.defaultLimit });
    return { name: p.query ?? n, in: 'query', required: decl.required?.includes(n as ParamName) ?? false, description: p.doc, schema };
  });
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

type Auth = 'bearer' | 'partner' | 'none';

function operation(decl: ReportDeclaration, opts: { auth?: Auth; formats?: readonly Format[]; body?: Schema; extra?: Schema[]; errors?: number[]; tag: string }): Schema {
  const formats = opts.formats ?? formatsOf(decl);
  const content: Schema = {};
  if (formats.includes('json')) content['application/json'] = { schema: opts.body ?? jsonBody(decl) };
  for (const f of formats) if (f !== 'json') Object.assign(content, FILES[f]);
  const responses: Schema = { 200: { description: decl.title, content } };
  const auth = opts.auth ?? 'bearer';
  if (auth !== 'none') responses[401] = { description: 'missing or bad credentials', content: { 'application/json': { schema: ERROR } } };
  for (const code of opts.errors ?? [404, 422]) {
    responses[code] = code === 422
      ? { description: 'invalid parameters', content: { 'application/json': { schema: VALIDATION } } }
      : { description: code === 404 ? 'an id outside the scope' : 'bad request', content: { 'application/json': { schema: code === 400 ? VALIDATION : ERROR } } };
  }
  return {
    tags: [opts.tag], summary: decl.title, operationId: `${decl.family}_${decl.name}`.replace(/[^A-Za-z0-9_]/g, '_'),
    parameters: [...(opts.extra ?? []), ...parameters(decl, formats)],
    responses,
    security: auth === 'bearer' ? [{ bearer: [] }] : auth === 'partner' ? [{ authId: [], authToken: [] }] : [],
  };
}

export function openApiDocument(telesales: readonly ReportDeclaration[]): Schema {
  const paths: Record<string, Schema> = {};
  for (const decl of telesales) {
    paths[`/api/${decl.family}/reports/${decl.name}`] = { get: operation(decl, { tag: decl.family }) };
    const files = formatsOf(decl).filter((f) => f !== 'json');
    if (files.length) {
      const op = operation(decl, { tag: decl.family, formats: files });
      paths[`/api/${decl.family}/reports/${decl.name}/export`] = { get: { ...op, operationId: `${op.operationId as string}_export`, summary: `${decl.title} (file)` } };
    }
  }
  paths['/api/calls'] = { get: operation(callDetail, { tag: 'calls' }) };
  paths['/api/v1/dashboard/'] = { get: operation(companyDashboard, { tag: 'company', errors: [404, 422] }) };
  paths['/api/partner/v1/dashboard'] = { get: operation(partnerDashboard, { tag: 'partner', auth: 'partner', errors: [422] }) };
  paths['/api/partner/v1/analytics'] = { get: operation(partnerAnalytics, { tag: 'partner', auth: 'partner', errors: [422] }) };
  const types = WIDGETS.map((w) => w.name);
  paths['/api/widgets/data'] = {
    get: {
      ...operation(WIDGETS[0], { tag: 'widgets', errors: [400, 404, 422], body: obj({ dataset: str({ enum: types }), datasources: arr(obj({ datasource: int(), data: { description: 'the value of the type: see docs/reports.md "Widgets"' } })) }) }),
      operationId: 'widgets_data', summary: 'Widget data',
      parameters: [{ name: 'type', in: 'query', required: true, schema: str({ enum: types }), description: 'widget type (400 when unknown)' }, ...parameters(WIDGETS[0], ['json'])],
    },
  };
  paths['/api/system/campaigns/report/summary/'] = { get: operation(campaignSummary, { tag: 'campaigns' }) };
  paths['/api/system/campaigns/report/download/'] = { get: operation(campaignDownload, { tag: 'campaigns', formats: ['xlsx', 'csv'] }) };
  const billing = operation(billingReconciliation, { tag: 'billing' });
  paths['/api/billing/reconciliation'] = { get: { ...billing, description: 'CSV is the summary; XLSX has a Summary and a Mismatches sheet.' } };
  paths['/api/billing/mismatches'] = {
    get: {
      ...operation(billingMismatchPage, { tag: 'billing', formats: ['json', 'csv', 'xlsx'] }),
      description: 'The rows behind the month\'s mismatches: JSON a page at a time (page, page_size); CSV and XLSX every row (page and page_size are not accepted there).',
    },
  };

  const envelope = (data: Schema) => obj({ status: int(), success: bool, message: { type: ['string', 'null'] }, errors: arr(str()), data });
  paths['/api/accounts/login/'] = {
    post: {
      tags: ['auth'], summary: 'Log in (access token valid 1 day)', operationId: 'auth_login', security: [],
      requestBody: { required: true, content: { 'application/json': { schema: obj({ email: str(), password: str() }) } } },
      responses: {
        200: { description: 'tokens', content: { 'application/json': { schema: envelope(obj({ token: obj({ refresh: str(), access: str() }), user_data: obj({ first_name: str(), last_name: str(), email: str() }) })) } } },
        400: { description: 'missing fields', content: { 'application/json': { schema: envelope({ type: 'object' }) } } },
        401: { description: 'wrong email or password', content: { 'application/json': { schema: envelope({ type: 'object' }) } } },
      },
    },
  };
  paths['/api/accounts/token/refresh/'] = {
    post: {
      tags: ['auth'], summary: 'A new access token from a refresh token', operationId: 'auth_refresh', security: [],
      requestBody: { required: true, content: { 'application/json': { schema: obj({ refresh: str() }) } } },
      responses: {
        200: { description: 'a new access token', content: { 'application/json': { schema: obj({ access: str() }) } } },
        400: { description: 'missing refresh', content: { 'application/json': { schema: { type: 'object', additionalProperties: arr(str()) } } } },
        401: { description: 'invalid or expired', content: { 'application/json': { schema: obj({ detail: str(), code: str() }) } } },
      },
    },
  };
  paths['/api/accounts/logout/'] = {
    post: {
      tags: ['auth'], summary: 'Log out: the refresh token stops working at once', operationId: 'auth_logout', security: [],
      requestBody: { required: true, content: { 'application/json': { schema: obj({ refresh: str() }) } } },
      responses: {
        200: { description: 'logged out', content: { 'application/json': { schema: envelope({ type: 'object' }) } } },
        400: { description: 'missing refresh', content: { 'application/json': { schema: { type: 'object', additionalProperties: arr(str()) } } } },
        401: { description: 'invalid, expired or already revoked', content: { 'application/json': { schema: obj({ detail: str(), code: str() }) } } },
      },
    },
  };
  paths['/readyz'] = {
    get: {
      tags: ['health'], summary: 'Ready: the store answers and the sync has not been failing too long', operationId: 'readyz', security: [],
      responses: {
        200: { description: 'ready', content: { 'application/json': { schema: { type: 'object' } } } },
        503: { description: 'not ready', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  };
  paths['/api/admin/jobs'] = {
    get: {
      tags: ['admin'], summary: 'The last job runs (admins only)', operationId: 'admin_jobs', security: [{ bearer: [] }],
      parameters: [
        { name: 'job', in: 'query', required: false, schema: str({ enum: [...JOB_NAMES] }), description: 'one job' },
        { name: 'limit', in: 'query', required: false, schema: int({ minimum: 1, maximum: 1000, default: 50 }), description: 'runs' },
      ],
      responses: {
        200: { description: 'runs, newest first', content: { 'application/json': { schema: obj({ data: arr(obj({ id: int(), job: str(), status: str(), started_at: str(), ended_at: { type: ['string', 'null'] }, ms: { type: ['integer', 'null'] }, stats: {}, error: { type: ['string', 'null'] } })) }) } } },
        401: { description: 'missing or bad credentials', content: { 'application/json': { schema: ERROR } } },
        403: { description: 'not an admin', content: { 'application/json': { schema: ERROR } } },
        422: { description: 'invalid parameters', content: { 'application/json': { schema: VALIDATION } } },
      },
    },
  };
  paths['/api/admin/rejects'] = {
    get: {
      tags: ['admin'], summary: 'Quarantined source rows, latest first (admins only)', operationId: 'admin_rejects', security: [{ bearer: [] }],
      parameters: [
        { name: 'table', in: 'query', required: false, schema: str({ enum: [...REJECT_TABLES] }), description: 'one source table' },
        { name: 'page', in: 'query', required: false, schema: int({ minimum: 1, default: 1 }), description: 'page number' },
        { name: 'page_size', in: 'query', required: false, schema: int({ minimum: 1, maximum: 100, default: 25 }), description: 'rows per page' },
      ],
      responses: {
        200: {
          description: 'a page of quarantined rows',
          content: {
            'application/json': {
              schema: obj({
                pagination: obj({ total_items: int(), total_pages: int(), page_number: int(), has_next: bool, has_previous: bool }),
                data: arr(obj({
                  table: str(), source_id: { type: ['string', 'null'] }, reason: str(), raw: { type: 'object', description: 'the row as read' },
                  first_seen: str(), last_seen: str(), seen_count: int(), loaded_by: { type: ['string', 'null'], description: 'the sync run or CDR file' },
                })),
              }),
            },
          },
        },
        401: { description: 'missing or bad credentials', content: { 'application/json': { schema: ERROR } } },
        403: { description: 'not an admin', content: { 'application/json': { schema: ERROR } } },
        422: { description: 'invalid parameters', content: { 'application/json': { schema: VALIDATION } } },
      },
    },
  };
  paths['/healthz'] = { get: { tags: ['health'], summary: 'The process is up', operationId: 'healthz', security: [], responses: { 200: { description: 'up', content: { 'application/json': { schema: obj({ status: str() }) } } } } } };

  return {
    openapi: '3.1.0',
    info: { title: 'Callboard', version: '1.0.0', description: 'Reports of a telephony platform: telesales, company dashboard, partner API, widgets, campaign reports, billing. Figures are defined in docs/reports.md.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'access token of POST /api/accounts/login/' },
        authId: { type: 'apiKey', in: 'header', name: 'X-Auth-ID', description: 'Partner API id (callboard keys add)' },
        authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'Partner API token' },
      },
    },
    paths,
  };
}

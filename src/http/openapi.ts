import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI 3.1 document's frame: what the service is and how callers authenticate.
 * Its paths are the routes' own schemas, collected by @fastify/swagger as the routes are
 * added (route-schema.ts for reports, inline for the rest). test/http/openapi.test.ts
 * checks that every route the app serves is in it and that it validates.
 */
export const OPENAPI_FRAME = {
  openapi: '3.1.0',
  info: { title: 'Callboard', version: '1.0.0', description: 'Reports of a telephony platform: telesales, company dashboard, partner API, widgets, campaign reports, billing. Figures are defined in docs/reports.md.' },
  servers: [{ url: '/' }],
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'the access token of POST /api/accounts/login/, or an API token (cbt_…) of POST /api/tokens or `callboard tokens add`' },
      authId: { type: 'apiKey', in: 'header', name: 'X-Auth-ID', description: 'Partner API id (callboard keys add)' },
      authToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'Partner API token' },
    },
  },
};

/** Leaves every route the plugin `app` adds out of the OpenAPI document (what is not the API). */
export function hideFromOpenApi(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
}

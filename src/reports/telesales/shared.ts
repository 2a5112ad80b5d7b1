import type { Endpoint } from '../declaration.ts';
import type { ParamName } from '../params.ts';

/** The shared telesales parameters (docs/reports.md "Telesales reports"). */
export const TELESALES_PARAMS: readonly ParamName[] = ['campaign_id', 'date_from', 'date_to', 'agent_ids', 'team_id', 'timezone', 'account_id', 'format'];
export const TELESALES_REQUIRED: readonly ParamName[] = ['date_from', 'date_to'];
/** Every telesales report is served at its name, in JSON or (with `/export`) as a file. */
export const TELESALES_ENDPOINT: Endpoint = { path: '/api/telesales/reports/:report', auth: 'bearer', envelope: 'data', exportTwin: true };

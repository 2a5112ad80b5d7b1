import type { ParamName } from '../params.ts';

/** The shared telesales parameters (docs/reports.md "Telesales reports"). */
export const TELESALES_PARAMS: readonly ParamName[] = ['campaign_id', 'date_from', 'date_to', 'agent_ids', 'team_id', 'timezone', 'account_id', 'format'];
export const TELESALES_REQUIRED: readonly ParamName[] = ['date_from', 'date_to'];

import type { ReportDeclaration } from './declaration.ts';
import { abandonRate } from './telesales/abandon-rate.ts';
import { agentPerformance } from './telesales/agent-performance.ts';
import { callerIdHealth, type CallerIdThresholds } from './telesales/caller-id-health.ts';
import { dashboard } from './telesales/dashboard.ts';
import { dispositionBreakdown } from './telesales/disposition-breakdown.ts';
import { funnel } from './telesales/funnel.ts';
import { hourDowHeatmap } from './telesales/hour-dow-heatmap.ts';
import { leadSourceAttribution } from './telesales/lead-source-attribution.ts';
import { timeSeries } from './telesales/time-series.ts';

/** Every report the service serves; the HTTP layer and docs walk this list. */
export function reportRegistry(cid?: CallerIdThresholds): ReportDeclaration[] {
  return [
    dashboard, dispositionBreakdown, agentPerformance, funnel, callerIdHealth(cid),
    hourDowHeatmap, leadSourceAttribution, timeSeries, abandonRate,
  ];
}

import type { ReportDeclaration } from './declaration.ts';
import { billingMismatchPage, billingReconciliation } from './billing/reconciliation.ts';
import { callDetail } from './calls/call-detail.ts';
import { campaignDownload, campaignSummary } from './campaigns/campaigns.ts';
import { companyDashboard } from './company/dashboard.ts';
import { partnerAnalytics, partnerDashboard } from './partner/partner.ts';
import { abandonRate } from './telesales/abandon-rate.ts';
import { agentPerformance } from './telesales/agent-performance.ts';
import { callerIdHealth, type CallerIdThresholds } from './telesales/caller-id-health.ts';
import { dashboard } from './telesales/dashboard.ts';
import { dispositionBreakdown } from './telesales/disposition-breakdown.ts';
import { funnel } from './telesales/funnel.ts';
import { hourDowHeatmap } from './telesales/hour-dow-heatmap.ts';
import { leadSourceAttribution } from './telesales/lead-source-attribution.ts';
import { timeSeries } from './telesales/time-series.ts';
import { WIDGETS } from './widgets/widgets.ts';

/**
 * Every report the service serves, each with its endpoint: the routes, the OpenAPI
 * document and the export templates walk this list. Adding a report is adding its
 * declaration here (and its SQL file).
 */
export function reportCatalogue(cid?: CallerIdThresholds): ReportDeclaration[] {
  return [
    dashboard, dispositionBreakdown, agentPerformance, funnel, callerIdHealth(cid),
    hourDowHeatmap, leadSourceAttribution, timeSeries, abandonRate,
    callDetail,
    companyDashboard,
    partnerDashboard, partnerAnalytics,
    ...WIDGETS,
    campaignSummary, campaignDownload,
    billingReconciliation, billingMismatchPage,
  ];
}

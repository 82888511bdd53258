// Chart data for the dashboard and the report, read-only: /v1/insights/*. Each page's shaping lives in
// src/insights and its model lookup in ../insights.ts, so the report file draws the same figures.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { latencyBy } from '../../insights/traffic.js';
import { BUCKETS } from '../metrics.js';
import { dashboardGuard } from '../admin.js';
import type { AffinityContext } from '../context.js';
import { insightPages, servedModels, type Runner } from '../insights.js';
import type { OfferService } from '../offers.js';
import * as S from '../schemas.js';

export const insightsRoutes: FastifyPluginAsyncTypebox<AffinityContext & { offers?: OfferService }> = async (app, { registry, engine, metrics, state, offers }) => {
  // Model figures and live traffic are the dashboard's: the admin token guards them once the server has one.
  app.addHook('preHandler', dashboardGuard(state));
  const run: Runner = (op, work) => engine.run(op, work);
  // Cheap by design: the live overview polls it every 2 s.
  app.get('/insights/overview', { schema: { tags: ['insights'], operationId: 'insightsOverview', response: S.replies(S.OverviewInsightsReply, 'read') } }, async () => {
    const routes = latencyBy(metrics.http.snapshot(), BUCKETS, 'route');
    return {
      at: new Date().toISOString(),
      uptimeSeconds: process.uptime(),
      models: servedModels(registry),
      policies: offers?.names ?? [],
      reloads: metrics.reloads,
      totals: { requests: routes.reduce((a, r) => a + r.count, 0), errors: routes.reduce((a, r) => a + r.errors, 0) },
      routes,
      engine: latencyBy(metrics.engine.snapshot(), BUCKETS, 'op'),
    };
  });
  const q = { tags: ['insights'], querystring: S.InsightsQuery };
  app.get('/insights/churn', { schema: { ...q, operationId: 'insightsChurn', response: S.replies(S.ChurnInsightsReply) } }, async (request) => insightPages.churn(registry, request.query.model));
  app.get('/insights/campaigns', { schema: { ...q, operationId: 'insightsCampaigns', response: S.replies(S.CampaignInsightsReply) } }, async (request) => insightPages.campaigns(registry, request.query.model));
  app.get('/insights/lifetime', { schema: { ...q, operationId: 'insightsLifetime', response: S.replies(S.LifetimeInsightsReply) } }, async (request) => insightPages.lifetime(registry, request.query.model, run));
  app.get('/insights/segments', { schema: { ...q, operationId: 'insightsSegments', response: S.replies(S.SegmentsInsightsReply) } }, async (request) => insightPages.segments(registry, request.query.model));
  app.get('/insights/quality', { schema: { ...q, operationId: 'insightsQuality', response: S.replies(S.QualityInsightsReply) } }, async (request) => insightPages.quality(registry, request.query.model, run));
};

// Chart data for the dashboard and the report, read-only: /v1/insights/*. Each page's shaping lives in
// src/insights, so the report file draws the same figures without a server.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PropensityScorer } from '../../analytics/churn.js';
import { churnView } from '../../insights/churn.js';
import { UpliftModel } from '../../analytics/uplift.js';
import { LifetimeValueModel } from '../../analytics/lifetime.js';
import { campaignView } from '../../insights/campaigns.js';
import { lifetimeView } from '../../insights/lifetime.js';
import { Segmentation } from '../../analytics/segments.js';
import { segmentsView } from '../../insights/segments.js';
import { qualityView } from '../../insights/quality.js';
import { latencyBy } from '../../insights/traffic.js';
import { BUCKETS } from '../metrics.js';
import { dashboardGuard } from '../admin.js';
import type { AffinityContext } from '../context.js';
import type { OfferService } from '../offers.js';
import { isRecommender } from '../../models/contract.js';
import * as S from '../schemas.js';


export const insightsRoutes: FastifyPluginAsyncTypebox<AffinityContext & { offers?: OfferService }> = async (app, { registry, engine, metrics, state, offers }) => {
  // Model figures and live traffic are the dashboard's: the admin token guards them once the server has one.
  app.addHook('preHandler', dashboardGuard(state));
  // Cheap by design: the live overview polls it every 2 s.
  app.get('/insights/overview', { schema: { tags: ['insights'], operationId: 'insightsOverview', response: S.replies(S.OverviewInsightsReply, 'read') } }, async () => {
    const routes = latencyBy(metrics.http.snapshot(), BUCKETS, 'route');
    const models = registry.list().map((e) => {
      const m = e.model.metadata;
      return { name: e.name, kind: e.kind, recommends: isRecommender(e.model), version: e.version, loadedAt: e.loadedAt.toISOString(), ...(m ? { trainedAt: m.trainedAt, quality: m.quality ?? {}, data: m.data } : {}) };
    });
    return {
      at: new Date().toISOString(),
      uptimeSeconds: process.uptime(),
      models,
      policies: offers?.names ?? [],
      reloads: metrics.reloads,
      totals: { requests: routes.reduce((a, r) => a + r.count, 0), errors: routes.reduce((a, r) => a + r.errors, 0) },
      routes,
      engine: latencyBy(metrics.engine.snapshot(), BUCKETS, 'op'),
    };
  });
  app.get('/insights/churn', { schema: { tags: ['insights'], operationId: 'insightsChurn', querystring: S.InsightsQuery, response: S.replies(S.ChurnInsightsReply) } }, async (request) => {
    const { name, model } = registry.ofClass(PropensityScorer, request.query.model);
    return { model: name, ...churnView(model) };
  });
  app.get('/insights/campaigns', { schema: { tags: ['insights'], operationId: 'insightsCampaigns', querystring: S.InsightsQuery, response: S.replies(S.CampaignInsightsReply) } }, async (request) => {
    const { name, model } = registry.ofClass(UpliftModel, request.query.model);
    return { model: name, ...campaignView(model) };
  });
  app.get('/insights/lifetime', { schema: { tags: ['insights'], operationId: 'insightsLifetime', querystring: S.InsightsQuery, response: S.replies(S.LifetimeInsightsReply) } }, async (request) => {
    const { name, model } = registry.ofClass(LifetimeValueModel, request.query.model);
    return { model: name, ...(await engine.run('insights', () => lifetimeView(model))) };
  });
  app.get('/insights/segments', { schema: { tags: ['insights'], operationId: 'insightsSegments', querystring: S.InsightsQuery, response: S.replies(S.SegmentsInsightsReply) } }, async (request) => {
    const { name, model } = registry.ofClass(Segmentation, request.query.model);
    return { model: name, ...segmentsView(model) };
  });
  app.get('/insights/quality', { schema: { tags: ['insights'], operationId: 'insightsQuality', querystring: S.InsightsQuery, response: S.replies(S.QualityInsightsReply) } }, async (request) => {
    const entry = registry.get(request.query.model);
    return { model: entry.name, kind: entry.kind, ...(await engine.run('insights', () => qualityView(entry.model))) };
  });
};

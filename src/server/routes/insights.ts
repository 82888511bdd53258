// Chart data for the dashboard and the report, read-only: /v1/insights/*. Each page's shaping lives in
// src/insights, so the report file draws the same figures without a server.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import { PropensityScorer } from '../../analytics/churn.js';
import { churnView } from '../../insights/churn.js';
import type { AffinityContext } from '../context.js';
import * as S from '../schemas.js';

export const insightsRoutes: FastifyPluginAsyncTypebox<AffinityContext> = async (app, { registry }) => {
  app.get('/insights/churn', { schema: { tags: ['insights'], operationId: 'insightsChurn', querystring: S.InsightsQuery, response: S.replies(S.ChurnInsightsReply) } }, async (request) => {
    const entry = registry.ofKind([PropensityScorer.kind], request.query.model, PropensityScorer.kind);
    if (!(entry.model instanceof PropensityScorer)) throw new AffinityError(`model ${entry.name} is not a propensity model`, ErrorCode.Internal);
    return { model: entry.name, ...churnView(entry.model) };
  });
};

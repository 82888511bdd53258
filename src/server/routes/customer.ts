// POST /v1/insights/customer: one customer across the served models, for the dashboard's customer view.
// The id travels in the body, never the URL, so it stays out of access logs.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { customerView } from '../customer.js';
import { dashboardGuard } from '../admin.js';
import type { AffinityContext } from '../context.js';
import type { OfferService } from '../offers.js';
import * as S from '../schemas.js';

export const customerRoutes: FastifyPluginAsyncTypebox<AffinityContext & { offers?: OfferService }> = async (app, ctx) => {
  app.post(
    '/insights/customer',
    { schema: { tags: ['insights'], operationId: 'insightsCustomer', body: S.CustomerInsightsBody, response: S.replies(S.CustomerInsightsReply) }, preHandler: dashboardGuard(ctx.state) },
    async (request) => customerView(ctx, request.body.customer, ctx.offers),
  );
};

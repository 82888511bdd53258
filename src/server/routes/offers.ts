// Offers that learn, over HTTP: /v1/offers/decide, /v1/offers/reward and /v1/offers/stats, served by the
// OfferService the app was given (buildApp({ offers })); without one they answer 404.
import { stat } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import { dashboardGuard } from '../admin.js';
import type { AffinityContext } from '../context.js';
import type { OfferService } from '../offers.js';
import * as S from '../schemas.js';
import { readDecisionLog } from '../../io/decisionlog.js';
import { offerValuation } from '../insights.js';

export const offerRoutes: FastifyPluginAsyncTypebox<AffinityContext & { offers?: OfferService }> = async (app, { offers, engine, state }) => {
  const service = (): OfferService => {
    if (!offers) throw new AffinityError('this server serves no offer policies (start it with offers: { dir, policies })', ErrorCode.UnknownModel);
    return offers;
  };
  app.post('/offers/decide', { schema: { tags: ['offers'], operationId: 'offersDecide', body: S.OfferDecideBody, response: S.replies(S.OfferDecideReply) } }, async (request) => service().decide(request.body));
  app.post('/offers/reward', { schema: { tags: ['offers'], operationId: 'offersReward', body: S.OfferRewardBody, response: { ...S.replies(S.OfferRewardReply), 409: S.ErrorResponse } } }, async (request) =>
    service().reward(request.body.decisionId, request.body.reward),
  );
  // The decision log is read and the policy valued again only when the log has grown: every decision and
  // reward is appended to it, so an unchanged size means unchanged answers.
  const valued = new Map<string, { size: number; answer: ReturnType<typeof offerValuation> }>();
  app.get('/insights/offers', { schema: { tags: ['insights'], operationId: 'insightsOffers', querystring: S.OfferStatsQuery, response: S.replies(S.OffersInsightsReply) }, preHandler: dashboardGuard(state) }, async (request) => {
    const stats = service().stats(request.query.policy);
    const path = service().logPath(stats.policy);
    const { size } = await stat(path);
    let cached = valued.get(stats.policy);
    if (!cached || cached.size !== size) {
      const answer = readDecisionLog(path).then((log) => offerValuation(log, service().bandit(stats.policy), (op, work) => engine.run(op, work)));
      valued.set(stats.policy, (cached = { size, answer }));
      answer.catch(() => valued.delete(stats.policy));
    }
    return { ...stats, ...(await cached.answer) };
  });
  app.get('/offers/stats', { schema: { tags: ['offers'], operationId: 'offersStats', querystring: S.OfferStatsQuery, response: S.replies(S.OfferStatsReply) } }, async (request) => service().stats(request.query.policy));
};

// /v1/events (ingestion) and the privacy routes: /v1/customers/:id/data (what is kept) and
// DELETE /v1/customers/:id (erasure, everywhere). The privacy routes are admin routes.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import { adminOnly } from '../admin.js';
import type { AffinityContext } from '../context.js';
import type { EventsService } from '../events.js';
import * as S from '../schemas.js';

/** A batch of 10,000 events with attributes is a few MB: the ingestion route's own body limit. */
const EVENTS_BODY_LIMIT = 16 << 20;

export const eventRoutes: FastifyPluginAsyncTypebox<AffinityContext> = async (app, { events, state }) => {
  const service = (): EventsService => {
    if (!events) throw new AffinityError('this server has no events store: start it with --store sqlite:PATH or postgres://...', ErrorCode.Unsupported);
    return events;
  };
  const admin = adminOnly(state);

  // The body stays text here: the store parses and checks it in its own thread (SQLite), so a batch of
  // 10,000 events does not hold the event loop. The schema documents the body; the store's validator is
  // the one that decides.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: EVENTS_BODY_LIMIT }, (_request, body, done) => done(null, body));
    scope.post(
      '/events',
      { bodyLimit: EVENTS_BODY_LIMIT, validatorCompiler: () => () => true, schema: { tags: ['events'], operationId: 'ingestEvents', body: S.EventsBody, response: S.accepted(S.EventsReply) } },
      async (request, reply) => {
        const result = await service().appendJson(request.body as unknown as string); // resolves once committed: a 202 is durable
        return reply.status(202).send(result);
      },
    );
  });

  app.post(
    '/models/:name/retrain',
    { schema: { tags: ['models'], operationId: 'retrainModel', params: S.ReloadParams, body: S.RetrainBody, response: S.replies(S.RetrainReply, 'admin') }, preHandler: admin },
    async (request) => service().retrain(request.params.name, request.body ?? {}),
  );

  app.get(
    '/customers/:id/data',
    { schema: { tags: ['privacy'], operationId: 'customerData', params: S.CustomerParams, response: S.replies(S.CustomerDataReply, 'admin') }, preHandler: admin },
    async (request) => service().dataOf(request.params.id),
  );

  app.delete(
    '/customers/:id',
    { schema: { tags: ['privacy'], operationId: 'forgetCustomer', params: S.CustomerParams, response: S.replies(S.ForgetReply, 'admin') }, preHandler: admin },
    async (request) => service().forget(request.params.id),
  );
};

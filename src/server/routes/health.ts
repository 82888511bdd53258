// /health/live (the process answers) and /health/ready (models or offer policies loaded, not shutting down).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AffinityContext } from '../context.js';
import type { OfferService } from '../offers.js';
import * as S from '../schemas.js';

export const healthRoutes: FastifyPluginAsyncTypebox<AffinityContext & { offers?: OfferService }> = async (app, { registry, state, offers }) => {
  const schema = { tags: ['health'], response: { 200: S.HealthReply, 503: S.HealthReply } };
  // Liveness answers under pressure too: an overloaded process is alive, and restarting it would not help.
  app.get('/health/live', { schema: { ...schema, operationId: 'live' }, config: { pressureHandler: () => undefined } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { ...schema, operationId: 'ready' } }, async (_request, reply) => {
    const policies = offers?.names.length ?? 0;
    const ready = !state.closing && (registry.size > 0 || policies > 0);
    reply.status(ready ? 200 : 503);
    if (!ready) reply.header('retry-after', '1');
    return { status: ready ? 'ready' : state.closing ? 'closing' : 'no models', models: registry.size, ...(offers ? { policies } : {}) };
  });
};

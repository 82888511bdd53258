// /health/live (the process answers) and /health/ready (models loaded, not shutting down).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AffinityContext } from '../context.js';
import * as S from '../schemas.js';

export const healthRoutes: FastifyPluginAsyncTypebox<AffinityContext> = async (app, { registry, state }) => {
  const schema = { tags: ['health'], response: { 200: S.HealthReply, 503: S.HealthReply } };
  // Liveness answers under pressure too: an overloaded process is alive, and restarting it would not help.
  app.get('/health/live', { schema: { ...schema, operationId: 'live' }, config: { pressureHandler: () => undefined } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { ...schema, operationId: 'ready' } }, async (_request, reply) => {
    const ready = !state.closing && registry.size > 0;
    reply.status(ready ? 200 : 503);
    if (!ready) reply.header('retry-after', '1');
    return { status: ready ? 'ready' : state.closing ? 'closing' : 'no models', models: registry.size };
  });
};

// /health/live (the process answers) and /health/ready (models loaded, not shutting down).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import * as S from '../schemas.js';

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const schema = { tags: ['health'], response: { 200: S.HealthReply, 503: S.HealthReply } };
  app.get('/health/live', { schema: { ...schema, operationId: 'live' } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', { schema: { ...schema, operationId: 'ready' } }, async (_request, reply) => {
    const ready = !app.affinity.closing && app.registry.size > 0;
    reply.status(ready ? 200 : 503);
    if (!ready) reply.header('retry-after', '1');
    return { status: ready ? 'ready' : app.affinity.closing ? 'closing' : 'no models', models: app.registry.size };
  });
};

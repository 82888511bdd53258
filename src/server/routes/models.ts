// /v1/models and the admin reload.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import type { EngineDeps } from '../plugins/engine.js';
import * as S from '../schemas.js';

/** Constant-time comparison (hashing first, so the lengths leak nothing either). */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export const modelRoutes: FastifyPluginAsyncTypebox<EngineDeps> = async (app, { registry, state }) => {
  const info = () =>
    registry.list().map((e) => ({
      name: e.name,
      kind: e.kind,
      version: e.version,
      users: e.model.users.size,
      items: e.model.items.size,
      loadedAt: e.loadedAt.toISOString(),
      reloadable: e.path !== undefined,
    }));

  app.get('/models', { schema: { tags: ['models'], operationId: 'listModels', response: S.replies(S.ModelsReply) } }, async () => ({ models: info() }));

  app.post(
    '/models/:name/reload',
    {
      schema: { tags: ['models'], operationId: 'reloadModel', params: S.ReloadParams, response: S.replies(S.ModelInfo) },
      preHandler: async (request) => {
        const expected = state.adminToken;
        if (!expected) throw new AffinityError('admin routes are disabled: set AFFINITY_ADMIN_TOKEN to enable them', ErrorCode.AdminDisabled);
        const header = request.headers.authorization ?? '';
        const given = header.startsWith('Bearer ') ? header.slice(7) : '';
        if (!tokenMatches(given, expected)) throw new AffinityError('missing or wrong admin token', ErrorCode.Unauthorized);
      },
    },
    async (request) => {
      if (state.closing) throw new AffinityError('the server is shutting down', ErrorCode.NotReady);
      await registry.reload(request.params.name);
      return info().find((m) => m.name === request.params.name)!;
    },
  );
};

// /v1/models and the admin reload.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AffinityError, ErrorCode } from '../../core/errors.js';
import type { FastifyRequest } from 'fastify';
import type { IdMap } from '../../data/ids.js';
import type { Model } from '../../models/contract.js';
import type { AffinityContext } from '../context.js';
import * as S from '../schemas.js';

/** Constant-time comparison (hashing first, so the lengths leak nothing either). */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The users (or customers) and items a model knows, for the listing: each kind keeps them in its own place. */
function sizesOf(model: Model): { users?: number; items?: number } {
  const m = model as { users?: IdMap; items?: IdMap; customers?: IdMap; dataset?: { customers: IdMap }; content?: { items: IdMap }; collaborative?: { users: IdMap } };
  return { users: (m.users ?? m.customers ?? m.dataset?.customers ?? m.collaborative?.users)?.size, items: (m.items ?? m.content?.items)?.size };
}

export const modelRoutes: FastifyPluginAsyncTypebox<AffinityContext> = async (app, { registry, state }) => {
  const info = () =>
    registry.list().map((e) => ({
      name: e.name,
      kind: e.kind,
      version: e.version,
      ...sizesOf(e.model),
      loadedAt: e.loadedAt.toISOString(),
      reloadable: e.path !== undefined,
      ...(e.model.metadata ? { metadata: e.model.metadata } : {}),
    }));
  const catalogInfo = () => {
    const c = registry.catalog;
    return c && { version: c.version, products: c.catalog.size, attributes: c.catalog.attributes, loadedAt: c.loadedAt.toISOString(), reloadable: c.path !== undefined };
  };

  app.get('/models', { schema: { tags: ['models'], operationId: 'listModels', response: S.replies(S.ModelsReply, 'read') } }, async () => ({ models: info(), catalog: catalogInfo() }));

  const admin = async (request: FastifyRequest) => {
    const expected = state.adminToken;
    if (!expected) throw new AffinityError('admin routes are disabled: set AFFINITY_ADMIN_TOKEN to enable them', ErrorCode.AdminDisabled);
    const header = request.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!tokenMatches(given, expected)) throw new AffinityError('missing or wrong admin token', ErrorCode.Unauthorized);
    if (state.closing) throw new AffinityError('the server is shutting down', ErrorCode.NotReady);
  };

  app.post(
    '/models/:name/reload',
    { schema: { tags: ['models'], operationId: 'reloadModel', params: S.ReloadParams, response: S.replies(S.ModelInfo, 'admin') }, preHandler: admin },
    async (request) => {
      await registry.reload(request.params.name);
      return info().find((m) => m.name === request.params.name)!;
    },
  );

  app.post('/catalog/reload', { schema: { tags: ['models'], operationId: 'reloadCatalog', response: S.replies(S.CatalogInfo, 'admin') }, preHandler: admin }, async () => {
    await registry.reloadCatalog();
    return catalogInfo()!;
  });
};

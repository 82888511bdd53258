// /v1/models and the admin reload.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { adminOnly } from '../admin.js';
import { customersOf } from '../events.js';
import type { IdMap } from '../../data/ids.js';
import type { Model } from '../../models/contract.js';
import type { AffinityContext } from '../context.js';
import * as S from '../schemas.js';

/** The users (or customers) and items a model knows, for the listing: each kind keeps them in its own place. */
function sizesOf(model: Model): { users?: number; items?: number } {
  const m = model as { items?: IdMap; content?: { items: IdMap } };
  return { users: customersOf(model)?.size, items: (m.items ?? m.content?.items)?.size };
}

export const modelRoutes: FastifyPluginAsyncTypebox<AffinityContext> = async (app, { registry, state, events }) => {
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

  const storeInfo = async () => ({
    kind: events!.store.kind,
    location: events!.store.location,
    lastSeq: await events!.store.lastSeq(),
    freshEvents: events!.fresh?.size,
    trainings: (await events!.store.records('trainings')).slice(-20).map((r) => ({ model: r.key, at: new Date(r.at).toISOString(), ...r.record })),
  });

  app.get('/models', { schema: { tags: ['models'], operationId: 'listModels', response: S.replies(S.ModelsReply, 'read') } }, async () => ({ models: info(), catalog: catalogInfo(), store: events && (await storeInfo()) }));

  const admin = adminOnly(state);

  app.post(
    '/models/:name/reload',
    { schema: { tags: ['models'], operationId: 'reloadModel', params: S.ReloadParams, response: S.replies(S.ModelInfo, 'admin') }, preHandler: admin },
    async (request) => {
      // Under `serve --workers`, every worker reloads every model file, or none does.
      if (registry.coordinator) {
        registry.byName(request.params.name);
        await registry.coordinator.reloadAll();
      } else await registry.reload(request.params.name);
      return info().find((m) => m.name === request.params.name)!;
    },
  );

  app.post('/catalog/reload', { schema: { tags: ['models'], operationId: 'reloadCatalog', response: S.replies(S.CatalogInfo, 'admin') }, preHandler: admin }, async () => {
    await registry.reloadCatalog();
    return catalogInfo()!;
  });
};

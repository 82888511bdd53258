// buildApp(): the scoring service as a Fastify instance (listen it yourself, or inject in tests).
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { capabilities } from '../index.js';
import { AffinityError, ErrorCode, httpStatusOf } from '../core/errors.js';
import { Metrics } from './metrics.js';
import { EngineGate, enginePlugin, type EngineDeps } from './plugins/engine.js';
import { ModelRegistry } from './registry.js';
import { recommendRoutes } from './routes/recommend.js';
import { modelRoutes } from './routes/models.js';
import { healthRoutes } from './routes/health.js';
import { analyticsRoutes, type AnalyticsModels } from './routes/analytics.js';

export { EngineGate } from './plugins/engine.js';

export interface AppOptions {
  /** Models to serve. A registry you filled, or { name: path } to load. */
  registry?: ModelRegistry;
  models?: Record<string, string>;
  /** Token for admin routes (reload). Without one they are disabled. Default: AFFINITY_ADMIN_TOKEN. */
  adminToken?: string;
  /** Engine calls allowed at once before answering 503 (default 256): a bound on queued work, not on parallelism. */
  maxInFlight?: number;
  /** Serve OpenAPI docs at /docs (default true). */
  docs?: boolean;
  logger?: FastifyServerOptions['logger'];
  bodyLimit?: number;
  /** Segments, propensity, co-purchase rules, content and hybrid models behind the /v1 analytics routes. */
  analytics?: AnalyticsModels;
}

export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 1 << 20,
    // Reject unknown fields instead of silently dropping them; coerce nothing in bodies.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const metrics = new Metrics();
  const registry = options.registry ?? new ModelRegistry();
  for (const [name, path] of Object.entries(options.models ?? {})) await registry.load(name, path);
  const caps = capabilities();
  metrics.info.set({ simd: caps.simd, threads: String(caps.threads) }, 1);
  const syncVersions = () => {
    for (const e of registry.list()) metrics.modelVersion.set({ model: e.name, kind: e.kind }, e.version);
    for (const [name, n] of registry.reloadFailures) metrics.reloadFailures.set({ model: name }, n);
  };
  syncVersions();
  registry.onReload = (e) => {
    syncVersions();
    if (e.ok) app.log.info({ model: e.name, version: e.version }, 'model reloaded');
    else app.log.error({ model: e.name, err: e.error }, 'model reload failed; the previous version keeps serving');
  };

  const deps: EngineDeps = {
    registry,
    engine: new EngineGate(options.maxInFlight ?? 256, metrics),
    state: { closing: false, adminToken: options.adminToken ?? process.env.AFFINITY_ADMIN_TOKEN ?? undefined },
  };
  await app.register(enginePlugin, { ...deps, metrics, drainMs: 10_000 });

  app.setErrorHandler((err: FastifyError & { code?: string }, request, reply) => {
    if (err.validation) {
      return reply.status(400).send({ statusCode: 400, code: 'FST_ERR_VALIDATION', error: 'Bad Request', message: err.message });
    }
    if (err instanceof AffinityError || (typeof err.code === 'string' && err.code.startsWith('ERR_AFFINITY_'))) {
      const status = httpStatusOf(err.code);
      if (err.code === ErrorCode.Cancelled) request.log.info({ code: err.code }, 'request cancelled');
      if (status === 503) reply.header('retry-after', '1');
      const message = status === 500 ? 'internal error' : err.message;
      if (status === 500) request.log.error({ err }, 'engine error');
      return reply.status(status).send({ statusCode: status, code: err.code, error: httpName(status), message });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, 'unhandled error');
    return reply.status(status).send({
      statusCode: status,
      code: err.code ?? (status === 500 ? 'ERR_INTERNAL' : 'ERR_REQUEST'),
      error: httpName(status),
      message: status === 500 ? 'internal error' : err.message,
    });
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.http.observe({ route: request.routeOptions.url ?? 'unknown', method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  if (options.docs !== false) {
    const { default: swagger } = await import('@fastify/swagger');
    const { default: swaggerUi } = await import('@fastify/swagger-ui');
    await app.register(swagger, {
      openapi: { info: { title: 'Affinity scoring API', version: '1' }, tags: [{ name: 'recommend' }, { name: 'analytics' }, { name: 'models' }, { name: 'health' }] },
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }
  await app.register(recommendRoutes, { prefix: '/v1', ...deps });
  await app.register(analyticsRoutes, { prefix: '/v1', ...deps, models: options.analytics ?? {} });
  await app.register(modelRoutes, { prefix: '/v1', ...deps });
  await app.register(healthRoutes, deps);
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    syncVersions();
    reply.type('text/plain; version=0.0.4');
    return metrics.render();
  });
  await app.ready();
  return app;
}

function httpName(status: number): string {
  return (
    { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 503: 'Service Unavailable' }[status] ??
    'Internal Server Error'
  );
}

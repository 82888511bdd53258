// The affinity Fastify plugin: `await app.register(affinity, { models, catalog, prefix: '/recs' })` puts the
// scoring API into an existing app. Everything it adds stays in its own scope (error format, validation
// rules, load shedding, CORS, request metrics, docs) except one decorator, `affinity`, on the app it is
// registered in. buildApp() is this plugin in a Fastify instance of its own.
import { createServer, type Server } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { FastifyCorsOptions } from '@fastify/cors';
import { capabilities } from '../index.js';
import { AffinityError, ErrorCode, httpStatusOf } from '../core/errors.js';
import type { Catalog } from '../data/catalog.js';
import type { AffinityContext } from './context.js';
import { OPERATION_DOCS } from './docs.js';
import { EngineGate } from './gate.js';
import { Metrics } from './metrics.js';
import { ModelRegistry } from './registry.js';
import { RuntimeMetrics } from './runtime.js';
import type { AnalyticsModels } from './analytics-models.js';
import { analyticsRoutes } from './routes/analytics.js';
import { campaignRoutes } from './routes/campaign.js';
import { offerRoutes } from './routes/offers.js';
import { OfferService, type OffersOptions } from './offers.js';
import { healthRoutes } from './routes/health.js';
import { insightsRoutes } from './routes/insights.js';
import { dashboardRoutes } from './dashboard.js';
import { customerRoutes } from './routes/customer.js';
import { modelRoutes } from './routes/models.js';
import { recommendRoutes } from './routes/recommend.js';
import { eventRoutes } from './routes/events.js';
import { EventsService, type EventsOptions } from './events.js';
import type { EventStore } from '../events/store.js';

export interface AffinityOptions {
  /** Models to serve. A registry you filled, or { name: path } to load. */
  registry?: ModelRegistry;
  models?: Record<string, string>;
  /** Map the model files instead of reading them (see ModelRegistry.mapFiles; on under `serve --workers`). */
  mapModelFiles?: boolean;
  /**
   * In-memory segments, propensity, co-purchase rules, content and hybrid models, served under their keys as
   * names (files of these kinds go in `models` like any other).
   */
  analytics?: AnalyticsModels;
  /**
   * Offers that learn (/v1/offers/*): bandit policies with their decision logs and snapshots in `dir`, or
   * an OfferService you opened (you close it then).
   */
  offers?: OffersOptions | OfferService;
  /** The product catalogue: a file (products.csv / .json / .jsonl, reloadable) or a Catalog. */
  catalog?: string | Catalog | undefined;
  /** Where the routes go inside the app (default: at the root of the scope it is registered in). */
  prefix?: string;
  /** Token for admin routes (reload). Without one they are disabled. Default: AFFINITY_ADMIN_TOKEN. */
  adminToken?: string | undefined;
  /** Engine calls allowed at once before answering 503 (default 256): a bound on queued work, not on parallelism. */
  maxInFlight?: number;
  /** Result slots (users × k) that large answers may hold at once, from the engine call to the written reply (default 2,000,000). */
  maxInFlightCost?: number;
  /**
   * The dashboard at `<prefix>/dashboard/` (default off): pages for the served models, live traffic and
   * one customer's view. With an admin token, the data it reads needs the token.
   */
  dashboard?: boolean;
  /** Largest request body of these routes, in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** OpenAPI docs at `<prefix>/docs` (default true). */
  docs?: boolean;
  /**
   * Cross-origin requests (@fastify/cors) for storefront JavaScript: true allows every origin, or give
   * its options ({ origin: ['https://shop.example'] }). Default off.
   */
  cors?: boolean | FastifyCorsOptions;
  /**
   * Load shedding (@fastify/under-pressure): past these limits every route but /health/live answers 503
   * with Retry-After. Defaults: event-loop delay 200 ms; utilization, heap and RSS limits off. A loop busy
   * all the time that still answers promptly is saturated, not overloaded (routes that work on the loop,
   * such as offer decisions, run there at full speed), and a large model's native memory counts in RSS.
   * false turns it off.
   */
  pressure?: false | { maxEventLoopDelay?: number; maxEventLoopUtilization?: number; maxHeapUsedBytes?: number; maxRssBytes?: number };
  /**
   * Prometheus metrics (requests, engine, models, process and runtime): at `<prefix>/metrics` (true, the
   * default), on a port of their own once the app listens ({ port, host }), or not at all (false).
   */
  metrics?: boolean | { port: number; host?: string };
  /** How long shutdown waits for engine calls in flight (ms, default 10000). */
  drainMs?: number;
  /**
   * The events store (POST /v1/events, fresh fold-in, erasure): `sqlite:PATH`, `postgres://...`, or an
   * EventStore you opened (you close it then).
   */
  store?: string | EventStore;
  /** How the server uses its store: pseudonymization key, retention, fresh fold-in (see EventsOptions). */
  events?: Omit<EventsOptions, 'store'>;
}

/** The validation rules of these routes, whatever the app's: unknown fields are rejected, nothing is coerced. */
const AJV_OPTIONS = { removeAdditional: false, coerceTypes: false, allErrors: false } as const;

async function plugin(app: FastifyInstance, options: AffinityOptions): Promise<void> {
  const metrics = new Metrics();
  const registry = options.registry ?? new ModelRegistry();
  if (options.mapModelFiles !== undefined) registry.mapFiles = options.mapModelFiles;
  for (const [name, path] of Object.entries(options.models ?? {})) await registry.load(name, path);
  for (const [name, model] of Object.entries(options.analytics ?? {})) if (model && !registry.list().some((e) => e.name === name)) registry.add(name, model);
  if (options.catalog !== undefined) {
    if (typeof options.catalog === 'string') await registry.loadCatalog(options.catalog);
    else registry.setCatalog(options.catalog);
  }
  metrics.catalogMissing.add({}, 0);
  const caps = capabilities();
  metrics.info.set({ simd: caps.simd, threads: String(caps.threads) }, 1);
  const syncVersions = () => {
    for (const e of registry.list()) metrics.modelVersion.set({ model: e.name, kind: e.kind }, e.version);
    for (const [name, n] of registry.reloadFailures) metrics.reloadFailures.set({ model: name }, n);
    if (registry.catalog) metrics.catalogVersion.set({}, registry.catalog.version);
  };
  syncVersions();
  registry.onReload = (e) => {
    syncVersions();
    metrics.recordReload(e);
    if (e.ok) app.log.info({ model: e.name, version: e.version }, 'model reloaded');
    else app.log.error({ model: e.name, err: e.error }, 'model reload failed; the previous version keeps serving');
  };

  const events = options.store === undefined ? undefined : await EventsService.open({ ...options.events, store: options.store }, registry);
  const ctx: AffinityContext = {
    events,
    registry,
    engine: new EngineGate(options.maxInFlight ?? 256, metrics, options.maxInFlightCost ?? 2_000_000),
    state: { closing: false, adminToken: options.adminToken ?? process.env.AFFINITY_ADMIN_TOKEN ?? undefined },
    metrics,
  };
  app.decorate('affinity', ctx);
  const offers = options.offers === undefined ? undefined : options.offers instanceof OfferService ? options.offers : await OfferService.open(options.offers);
  if (offers && !offers.onLogError) offers.onLogError = (err) => app.log.error({ err }, 'a decision could not be written to the decision log');
  const runtime = options.metrics === false ? undefined : new RuntimeMetrics();
  const renderMetrics = () => {
    syncVersions();
    return metrics.render() + (runtime?.render() ?? '');
  };
  app.addHook('preClose', async () => {
    ctx.state.closing = true; // readiness turns 503 first
  });
  app.addHook('onClose', async () => {
    await ctx.engine.drain(options.drainMs ?? 10_000);
    if (offers && offers !== options.offers) await offers.close();
    await events?.close();
    runtime?.stop();
  });
  if (typeof options.metrics === 'object') serveMetricsApart(app, options.metrics, renderMetrics);

  await app.register(
    async (scope) => {
      const { default: buildCompiler } = await import('@fastify/ajv-compiler');
      const compile = buildCompiler()({}, { customOptions: AJV_OPTIONS });
      scope.setValidatorCompiler(compile);
      const bodyLimit = options.bodyLimit ?? 1 << 20;
      scope.addHook('onRoute', (route) => {
        route.bodyLimit ??= bodyLimit;
        documentRoute(route);
      });
      scope.setErrorHandler(errorHandler);
      scope.addHook('onResponse', async (request, reply) => {
        metrics.http.observe({ route: request.routeOptions.url ?? 'unknown', method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      });
      if (options.cors) {
        const { default: cors } = await import('@fastify/cors');
        await scope.register(cors, options.cors === true ? { origin: true } : options.cors);
      }
      if (options.pressure !== false) {
        const { default: underPressure } = await import('@fastify/under-pressure');
        await scope.register(underPressure, {
          maxEventLoopDelay: options.pressure?.maxEventLoopDelay ?? 200,
          maxEventLoopUtilization: options.pressure?.maxEventLoopUtilization ?? 0,
          maxHeapUsedBytes: options.pressure?.maxHeapUsedBytes ?? 0,
          maxRssBytes: options.pressure?.maxRssBytes ?? 0,
          retryAfter: 1,
          customError: AffinityError.bind(null, 'the server is overloaded; retry shortly', ErrorCode.Busy) as unknown as new () => Error,
        });
      }
      if (options.docs !== false) {
        const { default: swagger } = await import('@fastify/swagger');
        const { default: swaggerUi } = await import('@fastify/swagger-ui');
        await scope.register(swagger, {
          openapi: {
            info: { title: 'Affinity scoring API', version: '1', description: 'Recommendations, scores and marketing models served from model files.' },
            tags: [
              { name: 'recommend', description: 'Recommendations, scores and neighbours' },
              { name: 'analytics', description: 'Segments, churn propensity, co-purchase rules, content and hybrid models' },
              { name: 'campaigns', description: 'Tree and forest predictions, uplift per campaign arm' },
              { name: 'offers', description: 'Offers chosen by bandit policies, their rewards and statistics' },
              { name: 'events', description: 'What customers did, recorded for fresh recommendations and retraining' },
              { name: 'privacy', description: "A customer's data, and erasure everywhere (admin)" },
              { name: 'models', description: 'What is served, and reloads (admin)' },
              { name: 'insights', description: 'Chart data: how well the served models did on data they did not see' },
              { name: 'health', description: 'Liveness and readiness probes' },
            ],
            components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'AFFINITY_ADMIN_TOKEN' } } },
          },
        });
        await scope.register(swaggerUi, { routePrefix: '/docs' });
      }
      await scope.register(recommendRoutes, { prefix: '/v1', ...ctx });
      await scope.register(analyticsRoutes, { prefix: '/v1', ...ctx });
      await scope.register(campaignRoutes, { prefix: '/v1', ...ctx });
      await scope.register(offerRoutes, { prefix: '/v1', ...ctx, offers });
      await scope.register(modelRoutes, { prefix: '/v1', ...ctx });
      await scope.register(insightsRoutes, { prefix: '/v1', ...ctx, offers });
      await scope.register(customerRoutes, { prefix: '/v1', ...ctx, offers });
      await scope.register(eventRoutes, { prefix: '/v1', ...ctx });
      await scope.register(healthRoutes, { ...ctx, offers });
      if (options.dashboard) await scope.register(dashboardRoutes);
      if (options.metrics !== false && typeof options.metrics !== 'object') {
        scope.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
          reply.type('text/plain; version=0.0.4');
          return renderMetrics();
        });
      }
    },
    { prefix: options.prefix ?? '' },
  );
}

/**
 * The scoring API as a Fastify plugin (fastify-plugin: the `affinity` decorator reaches the app it is
 * registered in; use `affinityOf(app)` or the `WithAffinity` type to reach it typed).
 */
export const affinity: FastifyPluginAsync<AffinityOptions> = fp(plugin, { name: 'affinity', fastify: '5.x' });

/** The summary, description, example and security of an operation, from docs.ts (every visible route has them). */
function documentRoute(route: RouteOptions): void {
  const schema = route.schema as (RouteOptions['schema'] & { hide?: boolean; operationId?: string; summary?: string; description?: string; security?: unknown }) | undefined;
  if (!schema || schema.hide || route.method === 'HEAD' || route.url.endsWith('/docs') || route.url.includes('/docs/')) return;
  const doc = schema.operationId === undefined ? undefined : OPERATION_DOCS[schema.operationId];
  if (!doc) throw new AffinityError(`route ${String(route.method)} ${route.url} has no entry in server/docs.ts`, ErrorCode.Internal);
  schema.summary ??= doc.summary;
  schema.description ??= doc.description;
  if (doc.admin) schema.security = [{ adminToken: [] }];
  if (doc.example && schema.body) schema.body = { ...(schema.body as object), examples: [doc.example] };
}

/** Errors of these routes in one shape: { statusCode, code, error, message }, with the engine's codes. */
function errorHandler(this: FastifyInstance, err: FastifyError & { code?: string }, request: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[1], reply: Parameters<Parameters<FastifyInstance['setErrorHandler']>[0]>[2]) {
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
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : err.statusCode === 503 ? 503 : 500;
  if (status === 500) request.log.error({ err }, 'unhandled error');
  if (status === 503) reply.header('retry-after', '1');
  const message = status === 500 ? 'internal error' : err.message;
  return reply.status(status).send({ statusCode: status, code: err.code ?? (status === 500 ? 'ERR_INTERNAL' : 'ERR_REQUEST'), error: httpName(status), message });
}

/** /metrics on a port of its own (kept off the public port), listening while the app does. */
function serveMetricsApart(app: FastifyInstance, at: { port: number; host?: string }, render: () => string): void {
  let server: Server | undefined;
  app.addHook('onListen', async () => {
    server = createServer((request, response) => {
      const ok = request.method === 'GET' && (request.url === '/metrics' || request.url?.startsWith('/metrics?'));
      response.writeHead(ok ? 200 : 404, { 'content-type': ok ? 'text/plain; version=0.0.4' : 'text/plain' });
      response.end(ok ? render() : 'GET /metrics\n');
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(at.port, at.host ?? '0.0.0.0', () => resolve());
    });
    app.log.info({ port: (server.address() as { port: number }).port }, 'metrics listening');
  });
  app.addHook('onClose', async () => {
    if (server) await new Promise((resolve) => server!.close(resolve));
  });
}

export function httpName(status: number): string {
  return (
    (
      {
        400: 'Bad Request',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'Not Found',
        408: 'Request Timeout',
        413: 'Payload Too Large',
        414: 'URI Too Long',
        415: 'Unsupported Media Type',
        422: 'Unprocessable Entity',
        431: 'Request Header Fields Too Large',
        503: 'Service Unavailable',
      } as Record<number, string>
    )[status] ?? 'Internal Server Error'
  );
}

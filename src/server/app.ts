// buildApp(): the scoring service as a Fastify instance (listen it yourself, or inject in tests).
import { createServer } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { capabilities } from '../index.js';
import { AffinityError, ErrorCode, httpStatusOf } from '../core/errors.js';
import { Metrics } from './metrics.js';
import { EngineGate, enginePlugin, type EngineDeps } from './plugins/engine.js';
import { ModelRegistry } from './registry.js';
import { LIMITS } from './schemas.js';
import { recommendRoutes } from './routes/recommend.js';
import { modelRoutes } from './routes/models.js';
import { healthRoutes } from './routes/health.js';
import { analyticsRoutes, type AnalyticsModels } from './routes/analytics.js';
import type { Catalog } from '../data/catalog.js';

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
  /**
   * In-memory segments, propensity, co-purchase rules, content and hybrid models, served under their keys as
   * names (files of these kinds go in `models` like any other).
   */
  analytics?: AnalyticsModels;
  /** The product catalogue: a file (products.csv / .json / .jsonl, reloadable) or a Catalog. */
  catalog?: string | Catalog;
  /** Result slots (users × k) that large answers may hold at once, from the engine call to the written reply (default 2,000,000). */
  maxInFlightCost?: number;
  /**
   * Load shedding (@fastify/under-pressure): past these limits every route but /health/live answers 503
   * with Retry-After. Defaults: event-loop delay 200 ms, utilization 0.98; heap and RSS limits off (a large
   * model's native memory counts in RSS). false turns it off.
   */
  pressure?: false | { maxEventLoopDelay?: number; maxEventLoopUtilization?: number; maxHeapUsedBytes?: number; maxRssBytes?: number };
  /** Time a client gets to send a whole request, and an idle connection to stay open (ms; default 30 s and 75 s). */
  requestTimeout?: number;
  keepAliveTimeout?: number;
}

export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 1 << 20,
    // Reject unknown fields instead of silently dropping them; coerce nothing in bodies.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // A client that never finishes its body must not hold a connection (and its buffers) for ever.
    requestTimeout: options.requestTimeout ?? 30_000,
    // Node enforces requestTimeout on a timer that runs every 30 s by default: every second instead, so a
    // client that never finishes its body is dropped soon after its time is up.
    serverFactory: (handler) => {
      const requestTimeout = options.requestTimeout ?? 30_000; // Node reads these when the server is made
      return createServer(
        { connectionsCheckingInterval: 1000, requestTimeout, headersTimeout: Math.min(requestTimeout, 20_000), keepAliveTimeout: options.keepAliveTimeout ?? 75_000 },
        handler,
      );
    },
    keepAliveTimeout: options.keepAliveTimeout ?? 75_000,
    // Ids travel in paths too (/v1/segments/:user): room for the longest id, percent-encoded.
    routerOptions: { maxParamLength: 3 * LIMITS.idLength + 16 },
    // The router's rejections (over-long parameters, malformed URLs) in our shape; Fastify's own repeats the URL.
    frameworkErrors: (err, _request, reply) => {
      const status = err.statusCode ?? 400;
      const message = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : err.code === 'FST_ERR_BAD_URL' ? 'malformed URL' : 'bad request';
      (reply as unknown as FastifyReply).status(status).send({ statusCode: status, code: err.code, error: httpName(status), message });
    },
    // The HTTP parser's own rejections (431 headers too large, 400 malformed requests) in the same shape
    // as every other error, with the parser's code.
    clientErrorHandler: (err: NodeJS.ErrnoException & { bytesParsed?: number }, socket) => {
      if (!socket.writable) return socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const message = { 431: 'request headers are too large', 408: 'the request was not received in time', 400: 'malformed HTTP request' }[status];
      const body = JSON.stringify({ statusCode: status, code: err.code ?? 'ERR_CLIENT', error: httpName(status), message });
      socket.end(`HTTP/1.1 ${status} ${httpName(status)}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const metrics = new Metrics();
  const registry = options.registry ?? new ModelRegistry();
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
    if (e.ok) app.log.info({ model: e.name, version: e.version }, 'model reloaded');
    else app.log.error({ model: e.name, err: e.error }, 'model reload failed; the previous version keeps serving');
  };

  const deps: EngineDeps = {
    registry,
    engine: new EngineGate(options.maxInFlight ?? 256, metrics, options.maxInFlightCost ?? 2_000_000),
    state: { closing: false, adminToken: options.adminToken ?? process.env.AFFINITY_ADMIN_TOKEN ?? undefined },
    metrics,
  };
  await app.register(enginePlugin, { ...deps, drainMs: 10_000 });
  if (options.pressure !== false) {
    const { default: underPressure } = await import('@fastify/under-pressure');
    await app.register(underPressure, {
      maxEventLoopDelay: options.pressure?.maxEventLoopDelay ?? 200,
      maxEventLoopUtilization: options.pressure?.maxEventLoopUtilization ?? 0.98,
      maxHeapUsedBytes: options.pressure?.maxHeapUsedBytes ?? 0,
      maxRssBytes: options.pressure?.maxRssBytes ?? 0,
      retryAfter: 1,
      customError: AffinityError.bind(null, 'the server is overloaded; retry shortly', ErrorCode.Busy) as unknown as new () => Error,
    });
  }

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
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : err.statusCode === 503 ? 503 : 500;
    if (status === 500) request.log.error({ err }, 'unhandled error');
    if (status === 503) reply.header('retry-after', '1');
    const message = status === 500 ? 'internal error' : err.message;
    return reply.status(status).send({ statusCode: status, code: err.code ?? (status === 500 ? 'ERR_INTERNAL' : 'ERR_REQUEST'), error: httpName(status), message });
  });

  app.setNotFoundHandler((request, reply) => {
    const route = `${request.method} ${request.url.length > 200 ? request.url.slice(0, 200) + '…' : request.url}`;
    return reply.status(404).send({ statusCode: 404, code: 'FST_ERR_NOT_FOUND', error: 'Not Found', message: `no route ${route}` });
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
  await app.register(analyticsRoutes, { prefix: '/v1', ...deps });
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
    )[status] ??
    'Internal Server Error'
  );
}

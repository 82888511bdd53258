// buildApp(): the scoring service as a Fastify instance of its own (listen it yourself, or inject in tests):
// the server-level settings (timeouts, parser errors, 404s) around the affinity plugin.
import { createServer } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { affinity, httpName, type AffinityOptions } from './plugin.js';
import type { WithAffinity } from './context.js';
import { LIMITS } from './limits.js';

export interface AppOptions extends Omit<AffinityOptions, 'prefix'> {
  logger?: FastifyServerOptions['logger'];
  /** Time a client gets to send a whole request, and an idle connection to stay open (ms; default 30 s and 75 s). */
  requestTimeout?: number;
  keepAliveTimeout?: number;
}

export async function buildApp(options: AppOptions = {}): Promise<WithAffinity> {
  const { logger, requestTimeout = 30_000, keepAliveTimeout = 75_000, ...rest } = options;
  const app = Fastify({
    logger: logger ?? false,
    bodyLimit: options.bodyLimit ?? 1 << 20,
    return503OnClosing: true,
    requestTimeout,
    // Node enforces requestTimeout on a timer that runs every 30 s by default: every second instead, so a
    // client that never finishes its body is dropped soon after its time is up.
    serverFactory: (handler) =>
      createServer({ connectionsCheckingInterval: 1000, requestTimeout, headersTimeout: Math.min(requestTimeout, 20_000), keepAliveTimeout }, handler),
    keepAliveTimeout,
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
  });
  app.setNotFoundHandler((request, reply) => {
    const route = `${request.method} ${request.url.length > 200 ? request.url.slice(0, 200) + '…' : request.url}`;
    return reply.status(404).send({ statusCode: 404, code: 'FST_ERR_NOT_FOUND', error: 'Not Found', message: `no route ${route}` });
  });
  await app.register(affinity, rest);
  await app.ready();
  return app as unknown as WithAffinity;
}

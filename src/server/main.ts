// serve(): buildApp + listen, graceful shutdown on SIGTERM/SIGINT, hot reload of every model on SIGHUP.
import closeWithGrace from 'close-with-grace';
import { setThreads } from '../index.js';
import { buildApp, type AppOptions } from './app.js';
import { attachWorker } from './cluster.js';
import type { WithAffinity } from './context.js';

export interface ServeOptions extends AppOptions {
  port?: number;
  host?: string;
  /** How long in-flight requests get to finish on shutdown (ms, default 10000). */
  graceMs?: number;
  /**
   * On SIGTERM/SIGINT, how long /health/ready answers 503 while the server still serves, before it stops
   * accepting connections (ms, default 0): give it the load balancer's probe interval so no request is
   * routed to a closed port.
   */
  unreadyMs?: number;
  /**
   * Compute threads for the engine (default: all cores, as setThreads). One fewer than the cores keeps a
   * core for the event loop under heavy batch load, at some cost in throughput on small machines.
   */
  threads?: number;
  /** Run as a worker of `serve --workers` (cluster.ts): models mapped, reloads coordinated by the primary. */
  clusterWorker?: boolean;
}

export async function serve(options: ServeOptions = {}): Promise<WithAffinity> {
  if (options.threads !== undefined) setThreads(options.threads);
  const worker = options.clusterWorker === true;
  const app = await buildApp({ logger: options.logger ?? { level: process.env.LOG_LEVEL ?? 'info', redact: ['req.headers.authorization'] }, ...(worker ? { mapModelFiles: true } : {}), ...options });
  await app.listen({ port: options.port ?? 8080, host: options.host ?? '0.0.0.0' });
  // SIGHUP means "reload the models" here, not "shut down" (close-with-grace handles it by default).
  closeWithGrace({ delay: options.graceMs ?? 10_000, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down: draining requests');
    app.affinity.state.closing = true;
    if (options.unreadyMs) await new Promise((r) => setTimeout(r, options.unreadyMs));
    await app.close();
  });
  if (worker) {
    attachWorker(app);
    return app;
  }
  process.on('SIGHUP', () => {
    const { registry } = app.affinity;
    for (const entry of registry.list()) {
      if (!entry.path) continue;
      registry.reload(entry.name).catch(() => {}); // reported through the registry's onReload
    }
    if (registry.catalog?.path) registry.reloadCatalog().catch(() => {});
  });
  return app;
}

// The dashboard at <prefix>/dashboard/: the page shell, and the script and style sheet that
// scripts/build-dashboard.mjs bundles into dist/dashboard (precompressed here, so each load costs a
// lookup). The data routes it reads guard themselves (the admin token, once the server has one).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AffinityError, ErrorCode } from '../core/errors.js';

/** dist/dashboard of this package, from wherever this module runs (src/ under tests, dist/src/ when built). */
export function dashboardDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'dashboard');
}

export interface DashboardBundle {
  script: string;
  style: string;
}

export function readDashboard(): DashboardBundle {
  const dir = dashboardDir();
  try {
    return { script: readFileSync(join(dir, 'app.js'), 'utf8'), style: readFileSync(join(dir, 'app.css'), 'utf8') };
  } catch {
    throw new AffinityError(`the dashboard is not built (no ${join(dir, 'app.js')}): run npm run build`, ErrorCode.Io);
  }
}

const SHELL = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Affinity</title><link rel="icon" href="data:,"><link rel="stylesheet" href="app.css"></head>
<body><div id="app"><p>Loading…</p></div><script src="app.js" defer></script></body></html>
`;

/** What the page may do: only this server's own scripts, styles and data. */
const POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const bundle = readDashboard();
  const files = new Map(
    Object.entries({ '': [SHELL, 'text/html; charset=utf-8'], 'app.js': [bundle.script, 'text/javascript; charset=utf-8'], 'app.css': [bundle.style, 'text/css; charset=utf-8'] }).map(([name, [body, type]]) => {
      const raw = Buffer.from(body);
      return [name, { raw, gzip: gzipSync(raw, { level: 9 }), type }];
    }),
  );
  const send = (name: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const f = files.get(name)!;
    reply.header('content-type', f.type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').header('vary', 'accept-encoding');
    if (name === '') reply.header('content-security-policy', POLICY).header('referrer-policy', 'no-referrer');
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(f.gzip);
    return reply.send(f.raw);
  };
  app.get('/dashboard', { schema: { hide: true } }, async (request, reply) => reply.redirect(`${request.url.split('?')[0]}/`));
  app.get('/dashboard/', { schema: { hide: true } }, send(''));
  app.get('/dashboard/app.js', { schema: { hide: true } }, send('app.js'));
  app.get('/dashboard/app.css', { schema: { hide: true } }, send('app.css'));
}

/**
 * The dashboard's pages as one self-contained HTML file: the script, the style sheet and the data inlined,
 * nothing fetched. `data` is what the pages read (ReportData in dashboard/api.ts).
 */
export function reportHtml(data: { generatedAt: string; overview: unknown; pages: Record<string, unknown> }, bundle: DashboardBundle = readDashboard()): string {
  // JSON and scripts inside <script> must not close it: '<' as \u003c in the data, '</script' split in the code.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const script = bundle.script.replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>Affinity report</title><style>${bundle.style}</style></head>
<body><div id="app"></div>
<script type="application/json" id="affinity-data">${json}</script>
<script>${script}</script></body></html>
`;
}

import { parseArgs } from 'node:util';
import { num, type Command } from '../common.js';

/** The demo's events store: a SQLite file beside its models, when better-sqlite3 is installed (it is optional). */
async function demoStore(path: string): Promise<string | undefined> {
  const { sqliteDriver } = await import('../../events/sqlite.js');
  try {
    sqliteDriver();
    return `sqlite:${path}`;
  } catch (err) {
    console.warn(`affinity demo: serving without an events store (${(err as Error).message})`);
    return undefined;
  }
}

export const demo: Command = {
  help: `usage: affinity demo [--port 8080] [--host 0.0.0.0] [--dashboard]

Generates a seeded demo shop (customers, products, a year of purchases), trains every model kind on it
(ALS, ItemKNN, segments, churn propensity, co-purchase rules, content, hybrid, forests, uplift), saves
each to a file, serves them from those files with the product catalogue and a coupon policy that learns
(/v1/offers/*) and an events store (SQLite, for POST /v1/events and fresh recommendations), and prints
curl commands to try. The dashboard is on (/dashboard/); --dashboard is accepted for symmetry with serve.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, port: { type: 'string' }, host: { type: 'string' }, dashboard: { type: 'boolean' } } });
    if (values.help) return console.log(this.help), 0;
    const { prepareDemo, demoRequests, curlOf } = await import('../../server/demo.js');
    const { serve } = await import('../../server/main.js');
    console.log('affinity demo: generating a shop and training every model kind...');
    const { dir, models, catalog, shop, offers } = await prepareDemo();
    const port = num(values.port, 'port') ?? 8080;
    const host = values.host ?? '0.0.0.0';
    const { join } = await import('node:path');
    const store = await demoStore(join(dir, 'events.db'));
    await serve({ models, catalog, offers, port, host, store, dashboard: true, logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
    const url = `http://localhost:${port}`;
    const requests = demoRequests(shop);
    const lines = (list: typeof requests.recommend) => list.map((r) => `  ${curlOf(url, r)}`).join('\n');
    console.log(`
${shop.data.userCount} customers, ${shop.products.length} products, ${shop.data.size} purchases; ${Object.keys(models).length} model files and products.json in ${dir}
Serving ${url}: the dashboard at ${url}/dashboard/, OpenAPI docs at ${url}/docs. Try:

${lines(requests.recommend)}

Marketing analytics:
${lines(requests.analytics)}
${store ? `
Events (kept in ${store.slice('sqlite:'.length)}): record a purchase, and the next recommendation folds it in ("fresh": 1):
${lines(requests.events)}
` : ''}
Press Ctrl+C to stop.`);
    return new Promise<number>(() => {});
  },
};

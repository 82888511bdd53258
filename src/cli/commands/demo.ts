import { parseArgs } from 'node:util';
import { num, type Command } from '../common.js';

export const demo: Command = {
  help: `usage: affinity demo [--port 8080] [--host 0.0.0.0]

Generates a seeded demo shop (customers, products, a year of purchases), trains ALS and ItemKNN on it,
saves them, starts the scoring server and prints curl commands to try.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, port: { type: 'string' }, host: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    const { prepareDemo } = await import('../../server/demo.js');
    const { serve } = await import('../../server/main.js');
    console.log('affinity demo: generating a shop and training ALS, ItemKNN and the analytics models...');
    const { dir, models, shop, analytics } = await prepareDemo();
    const port = num(values.port, 'port') ?? 8080;
    const host = values.host ?? '0.0.0.0';
    await serve({ models, analytics, port, host, logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
    const customer = shop.data.users.ids[0];
    const [p1, p2] = shop.data.itemsOf(customer).map((x) => x.item);
    const url = `http://localhost:${port}`;
    const post = (path: string, body: object) => `curl -s -X POST ${url}${path} -H 'content-type: application/json' -d '${JSON.stringify(body)}'`;
    console.log(`
${shop.data.userCount} customers, ${shop.products.length} products, ${shop.data.size} purchases; models and products.json in ${dir}
Serving ${url} (OpenAPI docs at ${url}/docs). Try:

  ${post('/v1/recommend', { user: customer, k: 5 })}
  ${post('/v1/recommend', { model: 'itemknn', user: customer, k: 5 })}
  ${post('/v1/recommend/anonymous', { items: [p1, p2], k: 5 })}
  ${post('/v1/recommend', { user: 'new-visitor', k: 5, fallback: 'popular' })}
  ${post('/v1/score', { user: customer, items: [p1, 'P0002', 'P0003'] })}
  ${post('/v1/similar/items', { item: p1, k: 5 })}

Marketing analytics:
  curl -s ${url}/v1/segments/${customer}
  ${post('/v1/propensity', { customers: [customer, shop.data.users.ids[1]], attributions: 3 })}
  ${post('/v1/also-bought', { items: [p1], k: 5 })}
  ${post('/v1/content/recommend', { items: [p1], k: 5 })}
  ${post('/v1/content/similar', { item: p1, k: 5 })}
  ${post('/v1/hybrid/recommend', { user: customer, k: 5 })}
  curl -s ${url}/v1/models
  curl -s ${url}/metrics

Press Ctrl+C to stop.`);
    return new Promise<number>(() => {});
  },
};

import { parseArgs } from 'node:util';
import { num, type Command } from '../common.js';

export const demo: Command = {
  help: `usage: affinity demo [--port 8080] [--host 0.0.0.0]

Generates a seeded demo shop (customers, products, a year of purchases), trains every model kind on it
(ALS, ItemKNN, segments, churn propensity, co-purchase rules, content, hybrid, forests, uplift), saves
each to a file, serves them from those files with the product catalogue and a coupon policy that learns
(/v1/offers/*), and prints curl commands to try.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, port: { type: 'string' }, host: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    const { prepareDemo, demoRequests, curlOf } = await import('../../server/demo.js');
    const { serve } = await import('../../server/main.js');
    console.log('affinity demo: generating a shop and training every model kind...');
    const { dir, models, catalog, shop, offers } = await prepareDemo();
    const port = num(values.port, 'port') ?? 8080;
    const host = values.host ?? '0.0.0.0';
    await serve({ models, catalog, offers, port, host, logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
    const url = `http://localhost:${port}`;
    const requests = demoRequests(shop);
    const lines = (list: typeof requests.recommend) => list.map((r) => `  ${curlOf(url, r)}`).join('\n');
    console.log(`
${shop.data.userCount} customers, ${shop.products.length} products, ${shop.data.size} purchases; ${Object.keys(models).length} model files and products.json in ${dir}
Serving ${url} (OpenAPI docs at ${url}/docs). Try:

${lines(requests.recommend)}

Marketing analytics:
${lines(requests.analytics)}

Press Ctrl+C to stop.`);
    return new Promise<number>(() => {});
  },
};

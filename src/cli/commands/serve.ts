import { parseArgs } from 'node:util';
import { num, usage, type Command } from '../common.js';

export const serveCommand: Command = {
  help: `usage: affinity serve --model name=FILE [--model name=FILE ...] [options]

  --catalog FILE         products.csv / .json / .jsonl: attributes in answers, attribute filters
  --port N               default 8080
  --host ADDR            default 0.0.0.0
  --cors ORIGINS         allow browser requests from these origins (comma-separated, or * for any);
                         default: none
  --metrics-port N       serve /metrics on this port only (default: /metrics on --port)
  --threads N            compute threads (default: all cores)

Serves model files of any kind (recommenders, segments, propensity, rules, content, hybrid): each route
finds its model by kind. --catalog adds product attributes to answers and attribute filters to requests.
Admin routes (reload) need AFFINITY_ADMIN_TOKEN. SIGHUP reloads every model and the catalogue;
SIGTERM/SIGINT drain and stop.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, model: { type: 'string', multiple: true }, catalog: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, cors: { type: 'string' }, 'metrics-port': { type: 'string' }, threads: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.model?.length) throw usage('at least one --model name=FILE is required');
    const models: Record<string, string> = {};
    for (const spec of values.model) {
      const at = spec.indexOf('=');
      if (at <= 0) throw usage(`--model ${spec}: expected name=FILE`);
      models[spec.slice(0, at)] = spec.slice(at + 1);
    }
    const metricsPort = num(values['metrics-port'], 'metrics-port');
    const origins = values.cors?.split(',').map((o) => o.trim()).filter(Boolean);
    const { serve } = await import('../../server/main.js');
    await serve({
      models,
      catalog: values.catalog,
      port: num(values.port, 'port'),
      host: values.host,
      threads: num(values.threads, 'threads'),
      cors: origins === undefined ? undefined : origins.includes('*') ? true : { origin: origins },
      metrics: metricsPort === undefined ? undefined : { port: metricsPort },
    });
    return new Promise<number>(() => {}); // runs until a signal closes it
  },
};

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
  --policy name=FILE     an offer policy (a bandit model file) for /v1/offers/*; repeatable
  --offers DIR           where policies keep their decision logs and snapshots (default ./offers)

Serves model files of any kind (recommenders, segments, propensity, rules, content, hybrid): each route
finds its model by kind. --catalog adds product attributes to answers and attribute filters to requests.
Admin routes (reload) need AFFINITY_ADMIN_TOKEN. SIGHUP reloads every model and the catalogue;
SIGTERM/SIGINT drain and stop.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, model: { type: 'string', multiple: true }, catalog: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, cors: { type: 'string' }, 'metrics-port': { type: 'string' }, threads: { type: 'string' }, policy: { type: 'string', multiple: true }, offers: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.model?.length && !values.policy?.length) throw usage('at least one --model name=FILE (or --policy name=FILE) is required');
    const named = (specs: string[] | undefined, flag: string) => {
      const out: Record<string, string> = {};
      for (const spec of specs ?? []) {
        const at = spec.indexOf('=');
        if (at <= 0) throw usage(`--${flag} ${spec}: expected name=FILE`);
        out[spec.slice(0, at)] = spec.slice(at + 1);
      }
      return out;
    };
    const models = named(values.model, 'model');
    const policies = named(values.policy, 'policy');
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
      offers: values.policy?.length ? { dir: values.offers ?? 'offers', policies } : undefined,
    });
    return new Promise<number>(() => {}); // runs until a signal closes it
  },
};

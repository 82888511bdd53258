import { parseArgs } from 'node:util';
import { num, usage, type Command } from '../common.js';
import { durationMs } from './events.js';

export const serveCommand: Command = {
  help: `usage: affinity serve --model name=FILE [--model name=FILE ...] [options]

  --catalog FILE         products.csv / .json / .jsonl: attributes in answers, attribute filters
  --port N               default 8080
  --host ADDR            default 0.0.0.0
  --cors ORIGINS         allow browser requests from these origins (comma-separated, or * for any);
                         default: none
  --metrics-port N       serve /metrics on this port only (default: /metrics on --port)
  --dashboard            serve the dashboard at /dashboard/ (charts of the served models, live traffic,
                         a customer's view); with AFFINITY_ADMIN_TOKEN set it asks for the token
  --threads N            compute threads (default: all cores; with --workers, per worker: default 1)
  --workers N            N HTTP processes on the same port over the same model files, mapped read-only
                         (one copy in the page cache). SIGHUP reloads every worker or none; a worker
                         that dies is restarted; SIGTERM drains them all. Replace served files by
                         rename (mv, or any Affinity writer), never in place (cp), under --workers.
  --policy name=FILE     an offer policy (a bandit model file) for /v1/offers/*; repeatable
  --offers DIR           where policies keep their decision logs and snapshots (default ./offers)
  --store SPEC           an events store: sqlite:PATH or postgres://... (POST /v1/events, fresh
                         recommendations, erasure through DELETE /v1/customers/:id)
  --pseudonymize-key KEY store HMAC-SHA-256 pseudonyms of customer ids (default: AFFINITY_PSEUDONYMIZE_KEY)
  --retain-days N        delete events older than N days (checked hourly)
  --retrain-every DUR    retrain the served ALS/KNN models from the store every DUR (30m, 1h, 1d),
                         swapping each in only when it is not worse on the latest day

Serves model files of any kind (recommenders, segments, propensity, rules, content, hybrid): each route
finds its model by kind. --catalog adds product attributes to answers and attribute filters to requests.
Admin routes (reload) need AFFINITY_ADMIN_TOKEN. SIGHUP reloads every model and the catalogue;
SIGTERM/SIGINT drain and stop.`,
  async run(args) {
    const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, model: { type: 'string', multiple: true }, catalog: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, cors: { type: 'string' }, 'metrics-port': { type: 'string' }, threads: { type: 'string' }, policy: { type: 'string', multiple: true }, offers: { type: 'string' }, store: { type: 'string' }, 'pseudonymize-key': { type: 'string' }, 'retain-days': { type: 'string' }, 'retrain-every': { type: 'string' }, workers: { type: 'string' }, dashboard: { type: 'boolean' } } });
    if (values.help) return console.log(this.help), 0;
    if (!values.model?.length && !values.policy?.length && !values.store) throw usage('at least one --model name=FILE (or --policy name=FILE) is required');
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
    const workers = num(values.workers, 'workers') ?? 1;
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw usage('--workers must be an integer in 1..256');
    const { isClusterWorker, runPrimary } = await import('../../server/cluster.js');
    const clusterWorker = isClusterWorker();
    if (workers > 1 && !clusterWorker) {
      if (values.store) throw usage('--workers does not run with --store yet: the events store keeps one writer per process; run one process per store');
      return runPrimary({ workers });
    }
    const { serve } = await import('../../server/main.js');
    const every = values['retrain-every'] === undefined ? undefined : durationMs(values['retrain-every']);
    if (every !== undefined && !values.store) throw usage('--retrain-every needs --store');
    const app = await serve({
      models,
      catalog: values.catalog,
      port: num(values.port, 'port'),
      host: values.host,
      threads: num(values.threads, 'threads') ?? (clusterWorker ? 1 : undefined),
      clusterWorker,
      dashboard: values.dashboard === true,
      cors: origins === undefined ? undefined : origins.includes('*') ? true : { origin: origins },
      metrics: metricsPort === undefined ? undefined : { port: metricsPort },
      offers: values.policy?.length ? { dir: values.offers ?? 'offers', policies } : undefined,
      store: values.store,
      events: {
        pseudonymizeKey: values['pseudonymize-key'] ?? process.env.AFFINITY_PSEUDONYMIZE_KEY,
        retainDays: num(values['retain-days'], 'retain-days'),
        retrain: every === undefined ? undefined : {
          everyMs: every,
          onResult: (r) => app.log.info({ model: r.model, swap: r.swap, ndcg: r.ndcg, version: r.version }, `retrained: ${r.reason}`),
          onError: (name, err) => app.log.error({ model: name, err }, 'retraining failed; the served model stays'),
        },
      },
    });
    return new Promise<number>(() => {}); // runs until a signal closes it
  },
};

// The affinity command line: data generation, similarity, recommendations, capabilities.
import { parseArgs } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AffinityError, ALS, capabilities, Interactions, ItemKNN, loadModel, similarity, SimilarityMatrix, UserKNN, writeNpy, type Measure, type Model } from './index.js';

const HELP: Record<string, string> = {
  main: `affinity: recommendations and similarity for Node.js, with a native SIMD core

usage: affinity <command> [options]

commands:
  info          CPU features, SIMD level and threads in use
  generate      write a synthetic power-law data set (small, medium, lastfm presets)
  similarity    item-item or user-user similarity of an interactions file, written as .npy
  train         train ALS, ItemKNN or UserKNN on a file and save the model
  eval          split a data set, train, and print ranking metrics
  recommend     recommendations from a model file (or a model trained on the spot)
  serve         the HTTP scoring server for model files
  bench         run a benchmark (bench/similarity)
  demo          train models on a demo shop and serve them (npm start)

Run \`affinity <command> --help\` for its options.`,
  info: `usage: affinity info\n\nPrints capabilities() as JSON.`,
  generate: `usage: affinity generate --preset small|medium|lastfm --out PATH [--format npy|csv] [--seed N]

Writes .npy files into the directory PATH (format npy, the default) or one CSV file.`,
  similarity: `usage: affinity similarity --data FILE --out DIR [options]

  --data FILE         interactions: .csv/.tsv (optionally .gz) or a directory of .npy files
  --columns U,I[,V]   column names (with a header) or 0-based positions; default 0,1,2 without header
  --header            the file has a header line (implied by column names)
  --axis items|users  default items
  --measure NAME      cosine (default), pearson, jaccard, dot, lift
  --weighting NAME    none (default), tfidf, bm25
  --k N               neighbours per row (default 50)
  --shrink X          default 0
  --threads N         default: all cores

Writes indptr.npy, indices.npy, data.npy (the top-K CSR) and ids.json to DIR.`,
  train: `usage: affinity train --data FILE --model als|itemknn|userknn --out FILE [options]

  --factors N --iterations N --regularization X --alpha X --feedback implicit|explicit   (ALS)
  --neighbours N --measure NAME                                                        (KNN)
  (and --columns / --header / --threads as for similarity)
Prints progress and the loss of each ALS iteration; writes the model atomically.`,
  eval: `usage: affinity eval --data FILE --model als|itemknn|userknn|popular [options]

  --strategy random|leave-last-out|time   default random
  --test-fraction X                        default 0.2
  --k N                                    default 10
  (and the training options of train)`,
  serve: `usage: affinity serve --model name=FILE [--model name=FILE ...] [--port 8080] [--host 0.0.0.0]

Admin routes (reload) need AFFINITY_ADMIN_TOKEN. SIGHUP reloads every model; SIGTERM/SIGINT drain and stop.`,
  recommend: `usage: affinity recommend (--model FILE | --data FILE) --user ID [--user ID ...] [options]

  --model FILE              a saved model (affinity train); otherwise:
  --data FILE --kind itemknn|userknn|als   train on the spot (default itemknn)
  --k N                     recommendations per user (default 10)
  --neighbours N            neighbours per item or user (default 50)
  --measure NAME            as for similarity
  (and --columns / --header as for similarity)`,
  bench: `usage: affinity bench <name> [options]

  similarity   item-item cosine top-50 and ItemKNN vs the TypeScript reference  [--data medium,movielens] [--threads 1,2] [--no-reference]
  als          ALS seconds/iteration, GFLOP/s, batch recommend, fold-in       [--presets medium,lastfm] [--factors 32,64,128]
  http         /v1/recommend under autocannon vs a bare Fastify route          [--seconds 10] [--preset medium]
  quality      MovieLens / retail quality tables (needs ../shared/data)
  scale        the lastfm preset end to end through a CSV file`,
  demo: `usage: affinity demo [--port 8080] [--host 0.0.0.0]

Generates a seeded demo shop (customers, products, a year of purchases), trains ALS and ItemKNN on it,
saves them, starts the scoring server and prints curl commands to try.`,
};

function progressBar(label: string): (f: number) => void {
  if (!process.stderr.isTTY) return () => {};
  return (f) => {
    const width = 30;
    const done = Math.round(f * width);
    process.stderr.write(`\r${label} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(f * 100).toFixed(0)}%${f >= 1 ? '\n' : ''}`);
  };
}

async function loadData(values: Record<string, unknown>): Promise<Interactions> {
  const path = values.data as string | undefined;
  if (!path) throw new AffinityError('--data is required', 'ERR_AFFINITY_BAD_INPUT');
  if (!/\.(csv|tsv|data|txt)(\.gz)?$/i.test(path)) return Interactions.loadNpy(path);
  const parts = values.columns ? String(values.columns).split(',') : undefined;
  const col = (s: string | undefined) => (s === undefined ? undefined : /^\d+$/.test(s) ? Number(s) : s);
  const columns = parts ? { user: col(parts[0])!, item: col(parts[1])!, value: col(parts[2]), timestamp: col(parts[3]) } : undefined;
  return Interactions.fromFile(path, { columns, header: values.header ? true : undefined, onProgress: progressBar('reading') });
}

const TRAINING = {
  factors: { type: 'string' },
  iterations: { type: 'string' },
  regularization: { type: 'string' },
  alpha: { type: 'string' },
  feedback: { type: 'string' },
  neighbours: { type: 'string' },
} as const;

async function trainModel(kind: string, values: Record<string, unknown>, data: Interactions): Promise<Model> {
  const threads = num(values.threads, 'threads');
  if (kind === 'als') {
    const model = new ALS({
      factors: num(values.factors, 'factors'),
      iterations: num(values.iterations, 'iterations'),
      regularization: num(values.regularization, 'regularization'),
      alpha: num(values.alpha, 'alpha'),
      feedback: values.feedback as 'implicit' | undefined,
      threads,
    });
    return model.fit(data, {
      onProgress: progressBar('als'),
      onIteration: (i, loss) => console.error(`iteration ${i + 1}: loss ${loss.toExponential(4)}`),
    });
  }
  if (kind !== 'itemknn' && kind !== 'userknn') throw new AffinityError(`unknown model kind '${kind}' (als, itemknn or userknn)`, 'ERR_AFFINITY_BAD_INPUT');
  const options = { k: num(values.neighbours, 'neighbours'), measure: values.measure as Measure | undefined, threads };
  const model = kind === 'userknn' ? new UserKNN(options) : new ItemKNN(options);
  return model.fit(data, { onProgress: progressBar(kind) });
}

const COMMON = {
  help: { type: 'boolean' },
  data: { type: 'string' },
  columns: { type: 'string' },
  header: { type: 'boolean' },
  measure: { type: 'string' },
  weighting: { type: 'string' },
  threads: { type: 'string' },
} as const;

function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new AffinityError(`--${name} must be a number`, 'ERR_AFFINITY_BAD_INPUT');
  return n;
}

async function run(command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'info':
      console.log(JSON.stringify(capabilities(), null, 2));
      return 0;
    case 'generate': {
      const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, preset: { type: 'string' }, out: { type: 'string' }, format: { type: 'string' }, seed: { type: 'string' } } });
      if (values.help) return help('generate');
      const { generate, PRESETS } = await import('../bench/generate.js');
      const preset = (values.preset ?? 'small') as keyof typeof PRESETS;
      if (!(preset in PRESETS)) throw new AffinityError(`unknown preset ${preset}`, 'ERR_AFFINITY_BAD_INPUT');
      if (!values.out) throw new AffinityError('--out is required', 'ERR_AFFINITY_BAD_INPUT');
      const data = await generate(preset, num(values.seed, 'seed') ?? 42);
      if (values.format === 'csv') await data.saveCsv(values.out);
      else await data.saveNpy(values.out);
      console.log(`${preset}: ${data.userCount} users, ${data.itemCount} items, ${data.size} interactions -> ${values.out}`);
      return 0;
    }
    case 'similarity': {
      const { values } = parseArgs({ args, options: { ...COMMON, out: { type: 'string' }, axis: { type: 'string' }, k: { type: 'string' }, shrink: { type: 'string' } } });
      if (values.help) return help('similarity');
      if (!values.out) throw new AffinityError('--out is required', 'ERR_AFFINITY_BAD_INPUT');
      const data = await loadData(values);
      const started = performance.now();
      const sim = (await similarity(data, {
        axis: values.axis as 'items' | 'users' | undefined,
        measure: values.measure as Measure | undefined,
        weighting: values.weighting as 'none' | undefined,
        k: num(values.k, 'k'),
        shrink: num(values.shrink, 'shrink'),
        threads: num(values.threads, 'threads'),
        onProgress: progressBar('similarity'),
      })) as SimilarityMatrix;
      const seconds = (performance.now() - started) / 1000;
      await mkdir(values.out, { recursive: true });
      await writeNpy(join(values.out, 'indptr.npy'), sim.indptr);
      await writeNpy(join(values.out, 'indices.npy'), sim.indices);
      await writeNpy(join(values.out, 'data.npy'), sim.data);
      const { writeFileAtomic } = await import('./files.js');
      await writeFileAtomic(join(values.out, 'ids.json'), Buffer.from(JSON.stringify(sim.ids.ids)));
      console.log(`${sim.size} rows, ${sim.indices.length} neighbours in ${seconds.toFixed(2)} s -> ${values.out}`);
      return 0;
    }
    case 'train': {
      const { values } = parseArgs({ args, options: { ...COMMON, ...TRAINING, model: { type: 'string' }, out: { type: 'string' } } });
      if (values.help) return help('train');
      if (!values.out) throw new AffinityError('--out is required', 'ERR_AFFINITY_BAD_INPUT');
      const data = await loadData(values);
      console.error(`data: ${data.userCount} users, ${data.itemCount} items, ${data.size} interactions`);
      const started = performance.now();
      const model = await trainModel(values.model ?? 'als', values, data);
      await model.save(values.out);
      console.log(`trained ${values.model ?? 'als'} in ${((performance.now() - started) / 1000).toFixed(2)} s -> ${values.out}`);
      return 0;
    }
    case 'eval': {
      const { values } = parseArgs({ args, options: { ...COMMON, ...TRAINING, model: { type: 'string' }, strategy: { type: 'string' }, 'test-fraction': { type: 'string' }, k: { type: 'string' } } });
      if (values.help) return help('eval');
      const { split, evaluate, MostPopular } = await import('./index.js');
      const data = await loadData(values);
      const { train, test } = await split(data, { strategy: values.strategy as 'random' | undefined, testFraction: num(values['test-fraction'], 'test-fraction'), seed: 42 });
      const kind = values.model ?? 'als';
      const model = kind === 'popular' ? await new MostPopular().fit(train) : await trainModel(kind, values, train);
      const result = await evaluate(model, train, test, { k: num(values.k, 'k') ?? 10 });
      console.log(`${kind} on ${train.size} training / ${test.size} test interactions (${values.strategy ?? 'random'} split, seed 42):`);
      for (const [metric, value] of Object.entries(result)) console.log(`  ${metric.padEnd(18)} ${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : value}`);
      return 0;
    }
    case 'recommend': {
      const { values } = parseArgs({ args, options: { ...COMMON, ...TRAINING, user: { type: 'string', multiple: true }, model: { type: 'string' }, kind: { type: 'string' }, k: { type: 'string' } } });
      if (values.help) return help('recommend');
      if (!values.user?.length) throw new AffinityError('--user is required', 'ERR_AFFINITY_BAD_INPUT');
      let model: Model;
      if (values.model) model = await loadModel(values.model);
      else model = await trainModel(values.kind ?? 'itemknn', values, await loadData(values));
      const users = model instanceof ALS ? model.users : model.parts().data.users;
      for (const raw of values.user) {
        const user = users.has(raw) ? raw : Number(raw);
        console.log(JSON.stringify({ user: raw, items: model.recommend(user, { k: num(values.k, 'k') }) }));
      }
      return 0;
    }
    case 'serve': {
      const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, model: { type: 'string', multiple: true }, port: { type: 'string' }, host: { type: 'string' } } });
      if (values.help) return help('serve');
      if (!values.model?.length) throw new AffinityError('at least one --model name=FILE is required', 'ERR_AFFINITY_BAD_INPUT');
      const models: Record<string, string> = {};
      for (const spec of values.model) {
        const at = spec.indexOf('=');
        if (at <= 0) throw new AffinityError(`--model ${spec}: expected name=FILE`, 'ERR_AFFINITY_BAD_INPUT');
        models[spec.slice(0, at)] = spec.slice(at + 1);
      }
      const { serve } = await import('./server/main.js');
      await serve({ models, port: num(values.port, 'port'), host: values.host });
      return new Promise<number>(() => {}); // runs until a signal closes it
    }
    case 'bench': {
      const [which, ...rest] = args;
      const benches = ['similarity', 'als', 'http', 'quality', 'scale'];
      if (!which || !benches.includes(which) || rest.includes('--help')) return help('bench');
      // The bench scripts read process.argv like any command.
      process.argv = [process.argv[0], `bench/${which}`, ...rest];
      await import(`../bench/${which}.js`);
      return 0;
    }
    case 'demo': {
      const { values } = parseArgs({ args, options: { help: { type: 'boolean' }, port: { type: 'string' }, host: { type: 'string' } } });
      if (values.help) return help('demo');
      const { prepareDemo } = await import('./server/demo.js');
      const { serve } = await import('./server/main.js');
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
    }
    default:
      console.error(`affinity: unknown command '${command}'\n`);
      console.error(HELP.main);
      return 2;
  }
}

function help(command: string): number {
  console.log(HELP[command] ?? HELP.main);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') return help(args[0] ?? 'main');
  try {
    return await run(command, args);
  } catch (err) {
    const e = err as Error & { code?: string };
    console.error(`affinity ${command}: ${e.message}${e.code ? ` (${e.code})` : ''}`);
    return 1;
  }
}

// The affinity command line: data generation, similarity, recommendations, capabilities.
import { parseArgs } from 'node:util';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AffinityError, capabilities, Interactions, ItemKNN, similarity, SimilarityMatrix, UserKNN, writeNpy, type Measure } from './index.js';

const HELP: Record<string, string> = {
  main: `affinity: recommendations and similarity for Node.js, with a native SIMD core

usage: affinity <command> [options]

commands:
  info          CPU features, SIMD level and threads in use
  generate      write a synthetic power-law data set (small, medium, lastfm presets)
  similarity    item-item or user-user similarity of an interactions file, written as .npy
  recommend     train ItemKNN or UserKNN on a file and print recommendations for users
  bench         run a benchmark (bench/similarity)
  demo          start the demo server (npm start)

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
  recommend: `usage: affinity recommend --data FILE --user ID [--user ID ...] [options]

  --model itemknn|userknn   default itemknn
  --k N                     recommendations per user (default 10)
  --neighbours N            neighbours per item or user (default 50)
  --measure NAME            as for similarity
  (and --columns / --header as for similarity)`,
  bench: `usage: affinity bench similarity [--data medium,movielens] [--threads 1,2] [--no-reference]`,
  demo: `usage: affinity demo\n\nStarts the scoring server on a demo shop (the server arrives with the HTTP issue).`,
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
    case 'recommend': {
      const { values } = parseArgs({ args, options: { ...COMMON, user: { type: 'string', multiple: true }, model: { type: 'string' }, k: { type: 'string' }, neighbours: { type: 'string' } } });
      if (values.help) return help('recommend');
      if (!values.user?.length) throw new AffinityError('--user is required', 'ERR_AFFINITY_BAD_INPUT');
      const data = await loadData(values);
      const options = { k: num(values.neighbours, 'neighbours'), measure: values.measure as Measure | undefined, threads: num(values.threads, 'threads') };
      const kind = values.model ?? 'itemknn';
      if (kind !== 'itemknn' && kind !== 'userknn') throw new AffinityError('--model must be itemknn or userknn', 'ERR_AFFINITY_BAD_INPUT');
      const model = kind === 'userknn' ? new UserKNN(options) : new ItemKNN(options);
      await model.fit(data, { onProgress: progressBar('fit') });
      for (const raw of values.user) {
        const user = data.users.has(raw) ? raw : Number(raw);
        console.log(JSON.stringify({ user: raw, items: model.recommend(user, { k: num(values.k, 'k') }) }));
      }
      return 0;
    }
    case 'bench': {
      const [which, ...rest] = args;
      if (which !== 'similarity' || rest.includes('--help')) return help('bench');
      process.argv = [process.argv[0], 'bench/similarity', ...rest];
      await import('../bench/similarity.js');
      return 0;
    }
    case 'demo':
      if (args.includes('--help')) return help('demo');
      console.log('affinity demo: the scoring server and its demo shop arrive with the server issue (not built yet).');
      console.log(`Meanwhile the engine is here: ${JSON.stringify(capabilities())}`);
      console.log('Try: npx affinity generate --preset small --out /tmp/small && npx affinity recommend --data /tmp/small --user 1');
      return 0;
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

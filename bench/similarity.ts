// bench/similarity: item-item cosine top-50 and ItemKNN recommendations, Affinity against the plain
// TypeScript reference in the same run. Each case runs in its own process so peak memory is its own.
//   npm run bench:similarity -- [--data medium,movielens] [--threads 1,2] [--no-reference]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ItemKNN, Interactions, similarity, capabilities, SimilarityMatrix } from '../src/index.js';
import { generate } from '../src/data/synthetic.js';
import { referenceSimilarity } from '../test/reference.js';

const MOVIELENS = new URL('../../shared/data/movielens-100k/u.data', import.meta.url);
const K = 50;

function peakRssMiB(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

async function load(name: string): Promise<Interactions> {
  if (name === 'movielens') return Interactions.fromFile(fileURLToPath(MOVIELENS), { format: 'tsv', columns: { user: 0, item: 1, value: 2 }, header: false });
  return generate(name as 'small' | 'medium' | 'lastfm');
}

async function runCase(data: string, engine: string, threads: number): Promise<Record<string, unknown>> {
  const d = await load(data);
  const base = peakRssMiB();
  if (engine === 'reference') {
    const t0 = performance.now();
    const rows = referenceSimilarity(d.csr, { axis: 'items', measure: 'cosine', k: K });
    const fit = (performance.now() - t0) / 1000;
    // Compare neighbours with Affinity's (computed after timing): same sets, ties at the cut aside.
    const sim = (await similarity(d, { k: K, threads: 2 })) as SimilarityMatrix;
    let rowsCompared = 0, mismatched = 0;
    rows.forEach((ref, i) => {
      rowsCompared++;
      const ours = Array.from(sim.indices.subarray(sim.indptr[i], sim.indptr[i + 1]));
      const oursScores = Array.from(sim.data.subarray(sim.indptr[i], sim.indptr[i + 1]));
      if (ours.length !== ref.length) return void mismatched++;
      const cut = ref.length > 0 ? ref[ref.length - 1].score : 0;
      for (let r = 0; r < ref.length; r++) {
        const same = ours[r] === ref[r].index || Math.abs(ref[r].score - cut) < 1e-6 * Math.max(1, cut) || Math.abs(oursScores[r] - ref[r].score) < 1e-6;
        if (!same || Math.abs(oursScores[r] - ref[r].score) > 1e-5 * Math.max(1, Math.abs(ref[r].score))) return void mismatched++;
      }
    });
    return { data, engine, threads: 1, fitSeconds: fit, peakMiB: peakRssMiB(), baseMiB: base, rowsCompared, rowsMismatched: mismatched };
  }
  const t0 = performance.now();
  const model = await new ItemKNN({ k: K, threads }).fit(d);
  const fit = (performance.now() - t0) / 1000;
  const users = Array.from({ length: Math.min(10_000, d.userCount) }, (_, i) => d.users.ids[(i * 7919) % d.userCount]);
  const t1 = performance.now();
  await model.recommendBatch(users, { k: 10, threads });
  const batch = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  for (const u of users.slice(0, 2000)) model.recommend(u, { k: 10 });
  const single = ((performance.now() - t2) / Math.min(2000, users.length)) * 1000;
  return { data, engine, threads, fitSeconds: fit, recommend10kSeconds: batch, recommendOneMicros: single, peakMiB: peakRssMiB(), baseMiB: base, simd: capabilities().simd };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  if (argv.includes('--case')) {
    const [data, engine, threads] = arg('case', '').split(':');
    console.log(JSON.stringify(await runCase(data, engine, Number(threads))));
    return;
  }
  const datasets = arg('data', 'movielens,medium').split(',').filter((d) => d !== 'movielens' || existsSync(MOVIELENS));
  if (!arg('data', 'movielens').includes('movielens') || !existsSync(MOVIELENS)) console.log('(MovieLens 100K not found at ../shared/data; skipped)');
  const threads = arg('threads', '1,2').split(',').map(Number);
  const results: Record<string, unknown>[] = [];
  for (const data of datasets) {
    const cases = threads.map((t) => `${data}:affinity:${t}`);
    if (!argv.includes('--no-reference')) cases.push(`${data}:reference:1`);
    for (const c of cases) {
      const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', c], { encoding: 'utf8', maxBuffer: 1 << 24 });
      const r = JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
      results.push(r);
      console.log(JSON.stringify(r));
    }
  }
  console.log('\n| data | engine | threads | fit (s) | 10k recs (s) | one rec (µs) | peak RSS (MiB) | speed-up vs reference |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const ref = results.find((x) => x.data === r.data && x.engine === 'reference');
    const ratio = ref ? ((ref.fitSeconds as number) / (r.fitSeconds as number)).toFixed(1) + 'x' : '-';
    const f = (v: unknown, d = 2) => (typeof v === 'number' ? v.toFixed(d) : '-');
    console.log(`| ${r.data} | ${r.engine} | ${r.threads} | ${f(r.fitSeconds)} | ${f(r.recommend10kSeconds, 3)} | ${f(r.recommendOneMicros, 1)} | ${f(r.peakMiB, 0)} | ${ratio} |`);
  }
}

await main(process.argv.slice(2));

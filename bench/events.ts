// bench/events: the events store under load, through a server in its own process.
//   1. ingestion rate, SQLite and PostgreSQL, batches of 1, 100 and 1000 events (202 = committed);
//   2. /v1/recommend latency (autocannon, 8 connections) alone and during ingestion of 1000-event batches;
//   3. fresh fold-in: /v1/recommend mean latency for customers with 5 fresh events, against fresh: false;
//   4. forget on the medium preset (ALS factors 64): withoutCustomers + saving the model file.
// PostgreSQL: AFFINITY_BENCH_POSTGRES_URL, else a server started from the local binaries, else skipped.
//   npm run bench:events -- [--seconds 5] [--preset small]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ALS } from '../src/index.js';
import { generate, type Preset } from '../src/data/synthetic.js';
import { startPostgres } from '../test/postgres-server.js';

const argv = process.argv.slice(2);
const arg = (n: string, f: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : f);
const seconds = Number(arg('seconds', '5'));
const preset = arg('preset', 'small') as Preset;
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'affinity-bench-events-'));

const data = await generate(preset);
const modelPath = join(dir, 'als.affinity');
await (await new ALS({ factors: 64, iterations: 3 }).fit(data)).save(modelPath);
const users = Array.from({ length: 2000 }, (_, i) => data.users.ids[(i * 7919) % data.userCount]);
const items = data.items.ids;

async function startServer(store: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['bin/affinity.js', 'serve', '--model', `als=${modelPath}`, '--store', store, '--port', String(port), '--host', '127.0.0.1'], { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  for (let i = 0; i < 300; i++) {
    if (await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the server did not start');
}

let serial = 0;
const eventsOf = (n: number) =>
  Array.from({ length: n }, () => {
    const s = serial++;
    return { id: `e${s}`, type: 'view', customer: users[s % users.length], item: items[(s * 31) % items.length] };
  });

/** Events/s stored by `clients` loops posting batches of `batch` for `ms`. */
async function ingest(url: string, batch: number, clients: number, ms: number): Promise<number> {
  const bodies = Array.from({ length: 64 }, () => JSON.stringify(eventsOf(batch)));
  let stored = 0;
  let n = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const r = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[n++ % bodies.length] });
        const j = (await r.json()) as { stored?: number };
        if (r.status === 202) stored += batch; // resent bodies count as duplicates in the store, but each is a full durable write
        else if (r.status !== 503) throw new Error(`ingest answered ${r.status}: ${JSON.stringify(j)}`);
      }
    }),
  );
  return stored / ((performance.now() - started) / 1000);
}

async function recommendLoad(url: string, fresh: boolean, during?: () => Promise<unknown>) {
  const requests = users.slice(0, 500).map((user) => ({ method: 'POST' as const, path: '/v1/recommend', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, k: 10, fresh }) }));
  const load = autocannon({ url, connections: 8, duration: seconds, requests });
  const [r] = await Promise.all([load, during?.()]);
  return r;
}

const rows: string[] = [];
const stores: { kind: string; spec: string; stop?: () => void }[] = [{ kind: 'sqlite', spec: `sqlite:${join(dir, 'events.db')}` }];
const pgUrl = process.env.AFFINITY_BENCH_POSTGRES_URL;
if (pgUrl) stores.push({ kind: 'postgres', spec: pgUrl });
else {
  const pg = await startPostgres();
  if ('url' in pg) stores.push({ kind: 'postgres', spec: pg.url, stop: pg.stop });
  else console.log(`PostgreSQL skipped: ${pg.problem}`);
}

for (const store of stores) {
  const port = 30000 + Math.floor(Math.random() * 20000);
  const url = `http://127.0.0.1:${port}`;
  const child = await startServer(store.spec, port);
  try {
    for (const [batch, clients] of [[1, 32], [100, 8], [1000, 4]] as const) {
      const rate = await ingest(url, batch, clients, seconds * 1000);
      rows.push(`| ${store.kind} | ingest, batches of ${batch} (${clients} clients) | ${Math.round(rate).toLocaleString('en')} events/s | |`);
    }
    const alone = await recommendLoad(url, false);
    const loaded = await recommendLoad(url, false, () => ingest(url, 1000, 4, seconds * 1000));
    rows.push(`| ${store.kind} | /v1/recommend p99 alone / during ingestion | ${alone.latency.p99} ms / ${loaded.latency.p99} ms | ${(loaded.latency.p99 / Math.max(alone.latency.p99, 1)).toFixed(2)}x |`);
    // Fold-in as customers produce it: customers the ingestion above did not touch, five fresh events each.
    const fresh = Array.from({ length: 500 }, (_, i) => data.users.ids[(i * 7919 + 3) % data.userCount]).filter((u) => !users.includes(u));
    const recent = fresh.flatMap((customer, c) => Array.from({ length: 5 }, (_, n) => ({ type: 'purchase', customer, item: items[(c * 13 + n * 101) % items.length] })));
    for (let at = 0; at < recent.length; at += 1000) await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(recent.slice(at, at + 1000)) });
    // Sequential requests timed with performance.now (autocannon's histogram counts whole milliseconds).
    const meanMicros = async (flag: boolean) => {
      const t = performance.now();
      let n = 0;
      for (let round = 0; round < 4; round++)
        for (const user of fresh) {
          const r = await fetch(`${url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, k: 10, fresh: flag }) });
          const body = (await r.json()) as { fresh?: number };
          if (r.status !== 200 || (flag && body.fresh !== 5)) throw new Error(`recommend answered ${r.status} ${JSON.stringify(body)}`);
          n++;
        }
      return ((performance.now() - t) * 1000) / n;
    };
    await meanMicros(false); // warm-up
    const stale = await meanMicros(false);
    const folded = await meanMicros(true);
    rows.push(`| ${store.kind} | /v1/recommend mean latency, sequential: fresh: false / with 5 fresh events folded in | ${stale.toFixed(0)} µs / ${folded.toFixed(0)} µs | ${(folded - stale).toFixed(0)} µs added |`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    store.stop?.();
  }
}

// Forget on the medium preset, in process: the ALS rewrite (drop the row, re-solve the customer's items) and the file.
const medium = await generate('medium');
const big = await new ALS({ factors: 64, iterations: 3 }).fit(medium);
const times: number[] = [];
const saves: number[] = [];
for (let n = 0; n < 5; n++) {
  const user = medium.users.ids[(n * 15_485_863) % medium.userCount];
  let t = performance.now();
  const without = await big.withoutCustomers([user]);
  times.push(performance.now() - t);
  t = performance.now();
  await without.save(join(dir, 'medium.affinity'));
  saves.push(performance.now() - t);
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
rows.push(`| medium, ALS f=64 | forget one customer: withoutCustomers / + saving the file (median of 5) | ${median(times).toFixed(0)} ms / ${(median(times) + median(saves)).toFixed(0)} ms | |`);

console.log(`\nbench/events (${preset} preset for HTTP, ${seconds} s runs)\n\n| store | measure | figure | ratio |\n|---|---|---|---|\n${rows.join('\n')}`);
process.exit(0);

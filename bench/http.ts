// bench/http: /v1/recommend (k=10, ALS factors 64 on the medium preset) under autocannon at 64
// connections, next to a bare Fastify route returning a constant, in the same run; then again during five
// hot reloads; then /v1/offers/decide (LinUCB, 50 offers x 32 context features, every decision fsynced
// to the decision log before its answer, group-committed). Servers run in their own processes; each run starts after a 3 s warm-up at the same load.   npm run bench:http -- [--seconds 10] [--preset medium]
// With --workers 1,2: only the serve --workers axis (throughput, throughput during SIGHUP reloads, memory per process).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ALS, Bandit, Interactions } from '../src/index.js';
import { generate, type Preset } from '../src/data/synthetic.js';

const argv = process.argv.slice(2);
const arg = (n: string, f: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : f);
const seconds = Number(arg('seconds', '10'));
const preset = arg('preset', 'medium') as Preset;
const root = fileURLToPath(new URL('..', import.meta.url));
const TOKEN = 'bench-token';

if (argv.includes('--bare')) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  app.post('/constant', async () => ({ model: 'none', version: 1, items: [] }));
  await app.listen({ port: Number(arg('port', '0')), host: '127.0.0.1' });
} else {
  const dir = await mkdtemp(join(tmpdir(), 'affinity-http-'));
  const data = await generate(preset);
  const modelPath = join(dir, 'als.affinity');
  await (await new ALS({ factors: 64, iterations: 3 }).fit(data)).save(modelPath);
  const users = Array.from({ length: 5000 }, (_, i) => data.users.ids[(i * 7919) % data.userCount]);

  const start = async (args: string[], port: number): Promise<ChildProcess> => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, AFFINITY_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn' }, stdio: 'inherit' });
    for (let i = 0; i < 200; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health/live`, { method: 'GET' }).catch(() => fetch(`http://127.0.0.1:${port}/constant`, { method: 'POST' }));
        if (r.status < 500) return child;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server on ${port} did not start`);
  };

  const run = async (url: string, body: (i: number) => string, during?: () => Promise<void>) => {
    let i = 0;
    const instance = autocannon({
      url,
      connections: 64,
      duration: seconds,
      // Steady state: JIT warm-up and the burst of 64 new connections are not part of the samples.
      ...({ warmup: { connections: 64, duration: 3 } } as object), // not in the typings of autocannon 8
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: body(i++) }) }],
    });
    const side = during?.();
    const result = await instance;
    await side;
    return result;
  };

  if (argv.includes('--workers')) {
    await workersAxis(arg('workers', '1,2').split(',').map(Number));
    process.exit(0);
  }

  /**
   * The --workers axis: `affinity serve --workers N` for each N, /v1/recommend throughput, then again while
   * SIGHUP reloads every worker (two-phase, all or none), and each process's memory: RSS, and the part
   * of it that is the process's own (RssAnon) rather than the mapped model file the page cache shares.
   */
  async function workersAxis(counts: number[]): Promise<void> {
    const { stat, readFile } = await import('node:fs/promises');
    const { execFileSync } = await import('node:child_process');
    // A worker serving a tiny model: what the runtime itself takes (Node, Fastify, the addon), to subtract.
    const tiny = join(dir, 'tiny.affinity');
    const small = await Interactions.fromArrays({ users: ['a', 'b', 'c'], items: ['x', 'y', 'x'] });
    await (await new ALS({ factors: 2, iterations: 1 }).fit(small)).save(tiny);
    const bare = await start(['bin/affinity.js', 'serve', '--model', `als=${tiny}`, '--port', '18089', '--host', '127.0.0.1'], 18089);
    const runtime = (await readFile(`/proc/${bare.pid}/status`, 'utf8')).match(/^RssAnon:\s+(\d+)/m)![1];
    bare.kill('SIGTERM');
    const modelBytes = (await stat(modelPath)).size;
    const kib = (status: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const memory = async (pid: number) => {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const pss = Number(/^Pss:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => ''))?.[1] ?? NaN) * 1024;
      return { rss: kib(status, 'VmRSS'), anon: kib(status, 'RssAnon'), file: kib(status, 'RssFile'), pss };
    };
    const mb = (b: number) => (b / 1e6).toFixed(1);
    console.log(`model file: ${mb(modelBytes)} MB (${preset}, ALS f=64); a server of a tiny model owns ${mb(Number(runtime) * 1024)} MB (RssAnon): the runtime\n`);
    console.log('| workers | requests/s | p99 (ms) | non-2xx + errors | during reloads: requests/s | reloads | non-2xx + errors |');
    console.log('|---|---|---|---|---|---|---|');
    const rows: string[] = [];
    const throughput: number[] = [];
    for (const n of counts) {
      const port = 18090 + n;
      const server = await start(['bin/affinity.js', 'serve', '--workers', String(n), '--model', `als=${modelPath}`, '--port', String(port), '--host', '127.0.0.1'], port);
      await new Promise((r) => setTimeout(r, 1500)); // every worker up, not only the first
      const url = `http://127.0.0.1:${port}/v1/recommend`;
      const body = (i: number) => JSON.stringify({ user: users[i % users.length], k: 10 });
      const steady = await run(url, body);
      // Memory after the steady run, before the reloads (each reload maps the new file beside the old until GC).
      const pids = n === 1 ? [server.pid!] : execFileSync('ps', ['-o', 'pid=', '--ppid', String(server.pid)], { encoding: 'utf8' }).split('\n').map(Number).filter((p) => p > 0);
      for (const pid of pids) {
        const m = await memory(pid);
        rows.push(`| ${n} | ${pid} | ${mb(m.rss)} | ${mb(m.anon)} | ${mb(m.file)} | ${mb(m.pss)} | ${((m.anon / modelBytes) * 100).toFixed(1)}% |`);
      }
      if (n > 1) rows.push(`| ${n} | primary ${server.pid} | ${mb((await memory(server.pid!)).rss)} | | | | |`);
      let reloads = 0;
      const during = await run(url, body, async () => {
        for (let k = 0; k < 5; k++) {
          await new Promise((r) => setTimeout(r, (seconds * 1000) / 6));
          // One worker: the admin route; several: SIGHUP to the primary. Both reload every process or none.
          if (n === 1) reloads += (await fetch(`http://127.0.0.1:${port}/v1/models/als/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).ok ? 1 : 0;
          else server.kill('SIGHUP'), reloads++;
        }
      });
      throughput.push(steady.requests.average);
      console.log(`| ${n} | ${Math.round(steady.requests.average)} | ${steady.latency.p99} | ${steady.non2xx + steady.errors} | ${Math.round(during.requests.average)} | ${reloads} | ${during.non2xx + during.errors} |`);
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    console.log('\n| workers | process | RSS (MB) | own (RssAnon, MB) | mapped file pages (RssFile, MB) | PSS (MB) | own / model file |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    if (throughput.length > 1) console.log(`\n/v1/recommend throughput with ${counts.at(-1)} workers = ${(throughput.at(-1)! / throughput[0]).toFixed(2)}x that of ${counts[0]} (the load generator runs on the same 2 cores)`);
  }

  const alsServer = await start(['bin/affinity.js', 'serve', '--model', `als=${modelPath}`, '--port', '18080', '--host', '127.0.0.1'], 18080);
  const bare = await start([...process.execArgv, fileURLToPath(import.meta.url), '--bare', '--port', '18081'], 18081); // with this process's loader flags (tsx)
  const line = (label: string, r: autocannon.Result) =>
    `| ${label} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r.requests.total} | ${r.non2xx + r.errors} |`;
  console.log(`| route | requests/s | p50 (ms) | p99 (ms) | requests | non-2xx + errors |`);
  console.log(`|---|---|---|---|---|---|`);
  const bareResult = await run('http://127.0.0.1:18081/constant', () => '{}');
  console.log(line('bare Fastify constant', bareResult));
  const rec = await run('http://127.0.0.1:18080/v1/recommend', (i) => JSON.stringify({ user: users[i % users.length], k: 10 }));
  console.log(line(`/v1/recommend (ALS f=64, ${preset})`, rec));
  let reloads = 0;
  const reloading = await run(
    'http://127.0.0.1:18080/v1/recommend',
    (i) => JSON.stringify({ user: users[i % users.length], k: 10 }),
    async () => {
      for (let n = 0; n < 5; n++) {
        await new Promise((r) => setTimeout(r, (seconds * 1000) / 6));
        const r = await fetch('http://127.0.0.1:18080/v1/models/als/reload', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{}' });
        if (r.ok) reloads++;
      }
    },
  );
  console.log(line(`/v1/recommend during ${reloads} reloads`, reloading));
  alsServer.kill('SIGTERM');
  const policyPath = join(dir, 'offers.affinity');
  const offerDims = 32;
  await new Bandit({ policy: 'linucb', arms: Array.from({ length: 50 }, (_, i) => `offer${i}`), dims: offerDims, seed: 1 }).save(policyPath);
  const offersServer = await start(['bin/affinity.js', 'serve', '--policy', `coupons=${policyPath}`, '--offers', join(dir, 'offers'), '--port', '18082', '--host', '127.0.0.1'], 18082);
  // Bodies made before the run: on 2 cores the load generator shares the machine, and building a
  // 32-number body per request would slow the client rather than measure the server.
  const bodies = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ customer: `c${i}`, context: Array.from({ length: offerDims }, (_, d) => Math.round(Math.sin(i * 31 + d * 7) * 1000) / 1000) }));
  const decide = await run('http://127.0.0.1:18082/v1/offers/decide', (i) => bodies[i % bodies.length]);
  console.log(line('/v1/offers/decide (LinUCB 50 x 32, logged and fsynced)', decide));
  if (decide.non2xx > 0) console.log('statuses:', JSON.stringify((decide as unknown as { statusCodeStats: unknown }).statusCodeStats), await (await fetch('http://127.0.0.1:18082/v1/offers/decide', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[0] })).text());
  const bareAgain = await run('http://127.0.0.1:18081/constant', (i) => bodies[i % bodies.length]);
  console.log(line('bare Fastify constant, the same bodies', bareAgain));
  offersServer.kill('SIGTERM');
  console.log(`\nrecommend throughput = ${((rec.requests.average / bareResult.requests.average) * 100).toFixed(1)}% of the bare route`);
  console.log(`offers/decide throughput = ${((decide.requests.average / bareAgain.requests.average) * 100).toFixed(1)}% of the bare route given the same bodies`);
  bare.kill('SIGTERM');
}

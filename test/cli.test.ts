// The affinity command, end to end, as separate processes (dist/ is built by npm install).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoShop } from '../src/data/synthetic.js';
import { Bandit, CouponSimulator, loadModel } from '../src/index.js';
import { OfferService } from '../src/server/offers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'affinity.js');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-cli-'));
  const lines = ['customer,product,qty'];
  for (let u = 0; u < 80; u++) for (let i = 0; i < 30; i++) if ((u * 5 + i * 7) % 9 < 3) lines.push(`c${u},p${i},${1 + ((u + i) % 3)}`);
  await writeFile(join(dir, 'orders.csv'), lines.join('\n'));
  // A shop export: purchase lines with quantity and unit price, and a catalogue.
  const shop = await demoShop(4, 150, 3000);
  const tx = shop.transactions;
  const exportLines = ['Invoice;Customer;Sku;When;Qty;UnitPrice'];
  for (let i = 0; i < tx.size; i++)
    exportLines.push(`B${tx.basket[i]};${tx.customers.ids[tx.customer[i]]};${tx.items.ids[tx.item[i]]};${new Date(tx.time[i] * 1000).toISOString().slice(0, 19).replace('T', ' ')};2;${(tx.amount[i] / 2).toFixed(4)}`);
  exportLines.push('B9;;P0001;2024-01-01 10:00:00;1;1'); // no customer: skipped with --skip-invalid
  await writeFile(join(dir, 'lines.csv'), exportLines.join('\n'));
  await writeFile(join(dir, 'products.csv'), ['id,name,category,price,stock', ...shop.products.map((p, i) => `${p.id},"${p.name}",${p.category},${p.price},${i % 3}`)].join('\n'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('affinity CLI', () => {
  it('prints help for every command', async () => {
    const { stdout } = await run(process.execPath, [bin, '--help']);
    for (const c of ['info', 'train', 'inspect', 'eval', 'tune', 'recommend', 'serve', 'demo', 'similarity', 'generate', 'report']) {
      expect(stdout).toContain(c);
      expect((await run(process.execPath, [bin, c, '--help'])).stdout).toMatch(/usage: affinity/);
    }
    await expect(run(process.execPath, [bin, 'nope'])).rejects.toMatchObject({ code: 2 });
  });

  it('help shows the defaults and the timestamp column; options fail before any data is read', async () => {
    const help = (await run(process.execPath, [bin, 'train', '--help'])).stdout;
    expect(help).toContain('ALS latent dimensions (default 64)');
    expect(help).toMatch(/--columns U,I\[,V\[,T\]\]\s+user, item, value and timestamp columns/);
    expect((await run(process.execPath, [bin, 'eval', '--help'])).stdout).toMatch(/--folds N[\s\S]*--metrics LIST/);
    // The data file does not exist: each run must stop at its option, not at the file.
    const missing = join(dir, 'no-such-file.csv');
    const failing = [
      ['train', '--data', missing, '--factors', 'many', '--out', join(dir, 'x.affinity')],
      ['train', '--data', missing, '--model', 'itemknn', '--measure', 'manhattan', '--out', join(dir, 'x.affinity')],
      ['train', '--data', missing, '--value', 'sqrt', '--out', join(dir, 'x.affinity')],
      ['train', '--data', missing, '--model', 'segments', '--columns', 'a,b,c', '--k', 'five', '--out', join(dir, 'x.affinity')],
      ['eval', '--data', missing, '--metrics', 'ndcg,accuracy'],
      ['eval', '--data', missing, '--folds', '1'],
      ['similarity', '--data', missing, '--measure', 'manhattan', '--out', join(dir, 'sim')],
    ];
    for (const argv of failing) {
      const err = await run(process.execPath, [bin, ...argv]).catch((e: { code: number; stderr: string }) => e);
      expect((err as { code: number }).code, argv.join(' ')).toBe(1);
      expect((err as { stderr: string }).stderr, argv.join(' ')).not.toMatch(/no-such-file|ENOENT/);
    }
  });

  it('tune: a table of every trial, the best setting, the refit model saved; train builds EASE and BPR', async () => {
    const data = join(dir, 'orders.csv');
    const out = join(dir, 'tuned.affinity');
    const r = await run(process.execPath, [bin, 'tune', '--data', data, '--columns', 'customer,product,qty', '--model', 'ease', '--budget', '4', '--space', '{"lambda":{"min":1,"max":100,"log":true}}', '--out', out]);
    expect(r.stdout.match(/^\| \d \| 0 \| [\d.]+ \| 0\.\d{4} \| [\d.]+ \|$/gm)).toHaveLength(4);
    expect(r.stdout).toMatch(/best: \{"lambda":[\d.]+\} \(ndcg@10 0\.\d{4}/);
    expect(r.stderr.match(/^trial \d rung 0/gm)).toHaveLength(4);
    expect((await loadModel(out)).kind).toBe('ease');
    const json = JSON.parse((await run(process.execPath, [bin, 'tune', '--data', data, '--columns', 'customer,product,qty', '--model', 'als', '--budget', '3', '--json', '--threads', '1'])).stdout);
    expect(json.trials.length).toBeGreaterThan(3);
    expect(json.best.params.threads).toBe(1);
    await expect(run(process.execPath, [bin, 'tune', '--data', data, '--model', 'svd'])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('ERR_AFFINITY_BAD_INPUT') });
    await expect(run(process.execPath, [bin, 'tune', '--data', data, '--space', '{nope'])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--space must be JSON') });
    for (const model of ['ease', 'bpr']) {
      await run(process.execPath, [bin, 'train', '--data', data, '--columns', 'customer,product,qty', '--model', model, '--epochs', '2', '--out', join(dir, `${model}.affinity`)]);
      expect((await loadModel(join(dir, `${model}.affinity`))).kind).toBe(model);
    }
  });

  it('eval: chosen metrics, and k-fold cross-validation with mean and standard deviation', async () => {
    const data = join(dir, 'orders.csv');
    const one = await run(process.execPath, [bin, 'eval', '--data', data, '--columns', 'customer,product,qty', '--model', 'itemknn', '--metrics', 'ndcg,recall']);
    expect(one.stdout).toMatch(/ndcg\s+0\.\d{4}/);
    expect(one.stdout).not.toMatch(/auc|precision/);
    const cv = await run(process.execPath, [bin, 'eval', '--data', data, '--columns', 'customer,product,qty', '--model', 'itemknn', '--folds', '3', '--metrics', 'ndcg,hitRate']);
    expect(cv.stdout).toContain('3-fold cross-validation');
    expect(cv.stdout).toMatch(/ndcg\s+0\.\d{4} ± 0\.\d{4}/);
    expect(cv.stderr.match(/^fold \d of 3/gm)).toHaveLength(3);
  });

  it('progress without a terminal: a line per tenth, no bar, and log lines intact', async () => {
    const train = await run(process.execPath, [bin, 'train', '--data', join(dir, 'orders.csv'), '--columns', 'customer,product,qty', '--model', 'als', '--factors', '8', '--iterations', '3', '--out', join(dir, 'p.affinity')]);
    expect(train.stderr).not.toContain('\r');
    const tenths = (train.stderr.match(/^als: \d+%$/gm) ?? []).map((l) => Number(l.slice(5, -1)));
    expect(tenths.at(-1)).toBe(100);
    expect(tenths.every((t, i) => t % 10 === 0 && (i === 0 || t > tenths[i - 1]))).toBe(true);
    expect(train.stderr).toMatch(/^iteration 3: loss \S+$/m);
  });

  it('clv: parameters with standard errors, a holdout check and the customers worth most', async () => {
    const times = (await import('node:fs')).readFileSync(join(dir, 'lines.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(';')[3]).filter(Boolean).sort();
    const middle = times[Math.floor(times.length * 0.7)].slice(0, 10);
    const out = await run(process.execPath, [bin, 'clv', '--data', join(dir, 'lines.csv'), '--columns', 'Customer,Sku,When,Qty*UnitPrice,Invoice', '--calibration-end', middle, '--skip-invalid', '--penalizer', '0.001', '--top', '3', '--out', join(dir, 'clv.affinity')]);
    expect(out.stdout).toMatch(/^betageo: r \d+\.\d{4} \(± [\d.]+\), alpha/m);
    expect(out.stdout).toMatch(/^gammagamma: p /m);
    expect(out.stdout).toMatch(/^holdout \([\d.]+ weeks\): predicted \d+ repeat purchases, actual \d+/m);
    expect(out.stdout.match(/^\| C\d+ \| /gm)).toHaveLength(3);
    const inspect = await run(process.execPath, [bin, 'inspect', join(dir, 'clv.affinity')]);
    expect(inspect.stdout).toContain('kind: clv');
    expect(inspect.stdout).toMatch(/part purchases:\s+kind: betageo/);
    const bad = await run(process.execPath, [bin, 'clv', '--data', join(dir, 'lines.csv'), '--columns', 'Customer,Sku,When', '--calibration-end', 'someday']).catch((e: { code: number; stderr: string }) => e);
    expect([(bad as { code: number }).code, (bad as { stderr: string }).stderr]).toEqual([1, expect.stringContaining('--calibration-end DATE is required')]);
  });

  it('abtest: lifts, intervals and the sample-ratio check of an experiment export', async () => {
    const rows = ['customer,arm,converted'];
    for (let i = 0; i < 3000; i++) rows.push(`c${i},${i % 3 === 0 ? 'control' : i % 3 === 1 ? 'email' : 'sms'},${(i * 7919) % 100 < (i % 3 === 1 ? 14 : 10) ? 1 : 0}`);
    await writeFile(join(dir, 'experiment.csv'), rows.join('\n'));
    const out = await run(process.execPath, [bin, 'abtest', '--data', join(dir, 'experiment.csv'), '--outcome', 'converted', '--group', 'arm', '--control', 'control']);
    expect(out.stdout).toMatch(/^\| email \| 1000 \| [\d.]+% \| [\d.]+ pt \| \[/m);
    expect(out.stdout).toMatch(/^\| sms \| 1000 \|/m);
    expect(out.stdout).toMatch(/sample ratio: chi-squared 0\.000 on 2 df, p = 1\.0000/);
    const bad = await run(process.execPath, [bin, 'abtest', '--data', join(dir, 'experiment.csv'), '--outcome', 'convert', '--group', 'arm', '--control', 'control']).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { stderr: string }).stderr).toContain('no column "convert" (the header has customer, arm, converted)');
  });

  it('trains, recommends from the file, and evaluates', async () => {
    const model = join(dir, 'm.affinity');
    const train = await run(process.execPath, [bin, 'train', '--data', join(dir, 'orders.csv'), '--columns', 'customer,product,qty', '--model', 'als', '--factors', '8', '--iterations', '3', '--out', model]);
    expect(train.stdout).toMatch(/trained als/);
    expect(train.stderr).toMatch(/iteration 3: loss/);
    const rec = await run(process.execPath, [bin, 'recommend', '--model', model, '--user', 'c1', '--k', '3']);
    expect(JSON.parse(rec.stdout).items).toHaveLength(3);
    const evaluated = join(dir, 'evaluated.affinity');
    const ev = await run(process.execPath, [bin, 'eval', '--data', join(dir, 'orders.csv'), '--columns', 'customer,product,qty', '--model', 'itemknn', '--out', evaluated]);
    expect(ev.stdout).toMatch(/ndcg\s+0\.\d+/);
    const ndcg = Number(/ndcg\s+(0\.\d+)/.exec(ev.stdout)![1]);
    const quality = JSON.parse((await run(process.execPath, [bin, 'inspect', evaluated, '--json'])).stdout).metadata.quality;
    expect(quality.ndcg).toBeCloseTo(ndcg, 4);
    expect(quality.testInteractions).toBeGreaterThan(0);
    await expect(run(process.execPath, [bin, 'train', '--data', join(dir, 'missing.csv'), '--model', 'als', '--out', model])).rejects.toMatchObject({
      stderr: expect.stringMatching(/ERR_AFFINITY_IO/),
    });
  });

  it('trains every marketing kind on a shop export, with a summary, and inspect reads the files back', async () => {
    const columns = ['--columns', 'Customer,Sku,When,Qty*UnitPrice,Invoice', '--skip-invalid'];
    const data = ['--data', join(dir, 'lines.csv')];
    const summaries: Record<string, RegExp> = {
      segments: /4 segments, silhouette [\d.]+\n\| segment \| customers/,
      propensity: /churn within 60 days, time split[\s\S]*\| ROC AUC \|[\s\S]*\| 0\.\d{3} \|/,
      rules: /\d+ rules over \d+ baskets/,
      content: /content: \d+ products, \d+ terms, interest vectors for \d+ customers/,
      hybrid: /collaborative: ALS/,
    };
    for (const [kind, summary] of Object.entries(summaries)) {
      const out = join(dir, `${kind}.affinity`);
      const extra = kind === 'segments' ? ['--k', '4'] : kind === 'propensity' ? ['--horizon', '60'] : [];
      const r = await run(process.execPath, [bin, 'train', '--model', kind, ...data, ...columns, '--items', join(dir, 'products.csv'), ...extra, '--out', out]);
      expect(r.stdout, kind).toMatch(summary);
      expect(r.stderr, kind).toMatch(/1 invalid rows skipped/);
      const inspect = await run(process.execPath, [bin, 'inspect', out]);
      expect(inspect.stdout, kind).toMatch(new RegExp(`format 2, \\d+ bytes\\n  kind: ${kind}`));
      expect(inspect.stdout, kind).toMatch(/input: lines\.csv \(\d+ bytes, sha256 [0-9a-f]{64}\)/);
      const json = JSON.parse((await run(process.execPath, [bin, 'inspect', out, '--json'])).stdout);
      expect(json.metadata.input.sha256).toMatch(/^[0-9a-f]{64}$/);
      if (kind === 'propensity') expect(json.metadata.quality.rocAuc).toBeGreaterThan(0.5);
    }
    const bad = await run(process.execPath, [bin, 'train', '--model', 'segments', ...data, '--columns', 'Customer,Sku,When', '--out', join(dir, 'x.affinity')]).catch((e) => e);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/lines\.csv:\d+: no customer \(skipInvalid skips such rows\) \(ERR_AFFINITY_PARSE\)/);
    const where = await run(process.execPath, [bin, 'train', '--model', 'rules', ...data, ...columns, '--where', '{"Qty":{"gt":1}}', '--delimiter', ';', '--out', join(dir, 'w.affinity')]);
    expect(where.stderr).toMatch(/, 1 left out by --where/); // the row without a customer has Qty 1
    const noneLeft = await run(process.execPath, [bin, 'train', '--model', 'rules', ...data, ...columns, '--where', '{"Qty":{"gt":5}}', '--out', join(dir, 'w.affinity')]).catch((e) => e);
    expect(noneLeft.stderr).toMatch(/no purchase lines \(where left out all \d+\)/);
    const badWhere = await run(process.execPath, [bin, 'train', '--model', 'rules', ...data, ...columns, '--where', 'Qty>1', '--out', join(dir, 'w.affinity')]).catch((e) => e);
    expect(badWhere.stderr).toMatch(/--where must be a JSON object/);
    const orc = await run(process.execPath, [bin, 'train', '--model', 'als', '--data', join(dir, 'lines.orc'), '--out', join(dir, 'p.affinity')]).catch((e) => e);
    expect(orc.stderr).toMatch(/not a format the CLI reads: \.csv, \.tsv/);
    const notModel = await run(process.execPath, [bin, 'inspect', join(dir, 'products.csv')]).catch((e) => e);
    expect(notModel.stderr).toMatch(/ERR_AFFINITY_CORRUPT_FILE/);
  });

  it('trains trees, forests and uplift models on a feature table, and the propensity forest', async () => {
    const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const next = random(5);
    const csv = ['customer,recency,channel,spend,arm,visited'];
    for (let i = 0; i < 3000; i++) {
      const recency = Math.floor(next() * 12) + 1;
      const channel = ['Web', 'Phone', 'Store'][Math.floor(next() * 3)];
      const arm = next() < 0.5 ? 'mail' : 'none';
      const p = 0.1 + (recency < 4 ? 0.2 : 0) + (arm === 'mail' && channel === 'Web' ? 0.25 : 0);
      csv.push(`c${i},${recency},${channel},${(next() * 100).toFixed(1)},${arm},${next() < p ? 1 : 0}`);
    }
    await writeFile(join(dir, 'campaign.csv'), csv.join('\n'));
    const data = ['--data', join(dir, 'campaign.csv'), '--id', 'customer'];
    const tree = await run(process.execPath, [bin, 'train', '--model', 'tree', ...data, '--target', 'visited', '--depth', '3', '--out', join(dir, 'tree.affinity')]);
    expect(tree.stdout).toMatch(/tree on visited \(classification\), held-out 30% \(seed 1\): accuracy 0\.\d{3}, rocAuc 0\.\d{3}/);
    expect(tree.stdout).toMatch(/if (recency <=|channel in|arm in)/);
    const forest = await run(process.execPath, [bin, 'train', '--model', 'forest', ...data, '--target', 'spend', '--task', 'regression', '--trees', '20', '--out', join(dir, 'forest.affinity')]);
    expect(forest.stdout).toMatch(/forest on spend \(regression\)[^\n]*r2 -?\d\.\d{3}, oobScore/);
    const uplift = await run(process.execPath, [bin, 'train', '--model', 'uplift', ...data, '--outcome', 'visited', '--treatment', 'arm', '--control', 'none', '--exclude', 'spend', '--trees', '30', '--customers', join(dir, 'campaign.csv'), '--out', join(dir, 'uplift.affinity')]);
    expect(uplift.stdout).toMatch(/uplift-forest, arms mail against none[\s\S]*\| mail \| \d+ \| 0\.\d{3} \|[\s\S]*kept 3000 customers/);
    const json = JSON.parse((await run(process.execPath, [bin, 'inspect', join(dir, 'uplift.affinity'), '--json'])).stdout);
    expect(json.metadata.quality['qini:mail']).toBeGreaterThan(0.05);
    const badMethod = await run(process.execPath, [bin, 'train', '--model', 'uplift', '--data', join(dir, 'nope.csv'), '--outcome', 'v', '--treatment', 'a', '--control', 'x', '--method', 'magic', '--out', join(dir, 'x.affinity')]).catch((e) => e);
    expect(badMethod.stderr).toMatch(/--method must be/); // before the (missing) file is read
    const noTarget = await run(process.execPath, [bin, 'train', '--model', 'forest', ...data, '--out', join(dir, 'x.affinity')]).catch((e) => e);
    expect(noTarget.stderr).toMatch(/--target COL is required/);
    const shopData = ['--data', join(dir, 'lines.csv'), '--columns', 'Customer,Sku,When,Qty*UnitPrice,Invoice', '--skip-invalid', '--horizon', '60'];
    const churn = await run(process.execPath, [bin, 'train', '--model', 'propensity', ...shopData, '--classifier', 'forest', '--out', join(dir, 'churn-forest.affinity')]);
    expect(churn.stdout).toMatch(/random forest: churn within 60 days/);
    const badClassifier = await run(process.execPath, [bin, 'train', '--model', 'propensity', ...shopData, '--classifier', 'svm', '--out', join(dir, 'x.affinity')]).catch((e) => e);
    expect(badClassifier.stderr).toMatch(/--classifier must be logistic or forest/);
  });

  it('ope: a policy file evaluated on a served decision log and on a CSV of logged rows', async () => {
    // Log uniform-random decisions (epsilon-greedy with epsilon 1) through the service, rewards from the simulator.
    const sim = new CouponSimulator({ seed: 4, segments: 2, noiseFeatures: 0 });
    const names = ['bias', 's0', 's1'];
    const logging = new Bandit({ policy: 'epsilon-greedy', epsilon: 1, arms: sim.offers, featureNames: names, seed: 1 });
    const service = await OfferService.open({ dir: join(dir, 'ope-offers'), policies: { p: logging } });
    const csv = ['action,reward,propensity,bias,s0,s1'];
    for (let i = 0; i < 3000; i++) {
      const c = sim.customer();
      const d = await service.decide({ customer: `c${i}`, context: Array.from(c.context) });
      const reward = sim.respond(c, sim.offers.indexOf(d.offer as string));
      if (reward > 0) await service.reward(d.decisionId!, reward);
      csv.push(`${d.offer},${reward},${d.propensity},${Array.from(c.context).join(',')}`);
    }
    await service.close();
    await writeFile(join(dir, 'logged.csv'), csv.join('\n'));
    const target = new Bandit({ policy: 'linucb', arms: sim.offers, featureNames: names, alpha: 0 });
    await target.save(join(dir, 'target.affinity'));
    const fromLog = await run(process.execPath, [bin, 'ope', '--logs', join(dir, 'ope-offers', 'p', 'decisions.log'), '--policy', join(dir, 'target.affinity'), '--bootstrap', '200']);
    expect(fromLog.stdout).toMatch(/3000 logged decisions/);
    for (const e of ['ips', 'snips', 'dm', 'dr']) expect(fromLog.stdout).toMatch(new RegExp(`\\| ${e} \\| \\d\\.\\d{3} \\| \\d\\.\\d{3} to \\d\\.\\d{3} \\| \\d+ \\|`));
    const fromCsv = await run(process.execPath, [bin, 'ope', '--logs', join(dir, 'logged.csv'), '--policy', join(dir, 'target.affinity'), '--context', names.join(','), '--estimators', 'ips', '--bootstrap', '200']);
    // The same rows either way: the same IPS line.
    const ipsLine = (out: string) => out.split('\n').find((l) => l.startsWith('| ips'));
    expect(ipsLine(fromCsv.stdout)).toBe(ipsLine(fromLog.stdout));
    const other = new Bandit({ policy: 'linucb', arms: ['x', 'y'], featureNames: names });
    await other.save(join(dir, 'other.affinity'));
    const unknown = await run(process.execPath, [bin, 'ope', '--logs', join(dir, 'logged.csv'), '--policy', join(dir, 'other.affinity'), '--context', names.join(',')]).catch((e) => e);
    expect(unknown.stderr).toMatch(/does not know/);
  });

  it('serve: any kind with a catalogue, analytics routes by kind', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const args = ['serve', '--model', `segments=${join(dir, 'segments.affinity')}`, '--model', `hybrid=${join(dir, 'hybrid.affinity')}`, '--catalog', join(dir, 'products.csv'), '--port', String(port), '--host', '127.0.0.1'];
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    const url = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 100; i++) {
        if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { models: { kind: string }[]; catalog: { products: number } };
      expect(models.models.map((m) => m.kind)).toEqual(['segments', 'hybrid']);
      expect(models.catalog.products).toBeGreaterThan(0);
      const body = { items: ['P0001'], k: 3, filter: { inStock: true }, fields: ['name', 'stock'] };
      const hybrid = await fetch(`${url}/v1/hybrid/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const items = ((await hybrid.json()) as { items: { attributes: { stock: number } }[] }).items;
      expect(items.length).toBe(3);
      for (const r of items) expect(r.attributes.stock).toBeGreaterThan(0);
      expect((await fetch(`${url}/v1/segments/nobody`)).status).toBe(404);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('serve: answers, reloads on SIGHUP, drains and exits on SIGTERM', async () => {
    const model = join(dir, 's.affinity');
    await run(process.execPath, [bin, 'train', '--data', join(dir, 'orders.csv'), '--columns', 'customer,product', '--model', 'itemknn', '--out', model]);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [bin, 'serve', '--model', `shop=${model}`, '--port', String(port), '--host', '127.0.0.1'], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    const url = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 100; i++) {
        const ok = await fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const rec = await fetch(`${url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'c2', k: 2 }) });
      expect(rec.status).toBe(200);
      child.kill('SIGHUP');
      let version = 1;
      for (let i = 0; i < 50 && version < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        version = ((await (await fetch(`${url}/v1/models`)).json()) as { models: { version: number }[] }).models[0].version;
      }
      expect(version).toBe(2);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

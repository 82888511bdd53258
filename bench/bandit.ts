// bench/bandit: the cost of a decision and an update (LinUCB, 50 offers x 32 context features: the issue's
// goal is < 20 us and < 10 us) against a plain TypeScript implementation of the same algebra and a NumPy
// LinUCB (bench/peers/linucb.py) on the same contexts; the other policies' decisions; off-policy DR with
// 1,000 bootstrap resamples over 1M logged rows on 2 threads against the plain loop; and cumulative regret
// of every policy on the seeded coupon simulator.
// npm run bench:bandit -- [--steps 20000]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bandit, CouponSimulator, offPolicyValue, setThreads, type BanditPolicyName } from '../src/index.js';
import { Random } from '../src/core/random.js';

const argv = process.argv.slice(2);
const steps = Number(argv.includes('--steps') ? argv[argv.indexOf('--steps') + 1] : 20000);
const dims = 32, arms = 50, warm = 2000, alpha = 1;
const random = new Random(7);
const contexts = Array.from({ length: steps + warm }, () => Float64Array.from({ length: dims }, () => random.normal() / Math.sqrt(dims)));
const rewards = Float64Array.from({ length: steps + warm }, () => (random.next() < 0.1 ? 1 : 0));

/** Best of `passes` of fn over the steps, in microseconds per step. */
function perStep(passes: number, fn: (t: number) => void): number {
  let best = Infinity;
  for (let p = 0; p < passes; p++) {
    const started = performance.now();
    for (let t = 0; t < steps; t++) fn(t);
    best = Math.min(best, ((performance.now() - started) * 1000) / steps);
  }
  return best;
}

// The plain reference: the same disjoint LinUCB, Sherman-Morrison in Float64Arrays.
class PlainLinUcb {
  ainv = Array.from({ length: arms }, () => { const m = new Float64Array(dims * dims); for (let i = 0; i < dims; i++) m[i * dims + i] = 1; return m; });
  b = Array.from({ length: arms }, () => new Float64Array(dims));
  theta = Array.from({ length: arms }, () => new Float64Array(dims));
  u = new Float64Array(dims);
  decide(x: Float64Array): number {
    let best = -Infinity, arm = 0;
    for (let a = 0; a < arms; a++) {
      const m = this.ainv[a];
      let width = 0, mean = 0;
      for (let i = 0; i < dims; i++) {
        let s = 0;
        for (let j = 0; j < dims; j++) s += m[i * dims + j] * x[j];
        width += x[i] * s;
        mean += x[i] * this.theta[a][i];
      }
      const score = mean + alpha * Math.sqrt(width);
      if (score > best) (best = score), (arm = a);
    }
    return arm;
  }
  update(a: number, x: Float64Array, r: number): void {
    const m = this.ainv[a], u = this.u;
    let q = 0;
    for (let i = 0; i < dims; i++) {
      let s = 0;
      for (let j = 0; j < dims; j++) s += m[i * dims + j] * x[j];
      u[i] = s;
      q += x[i] * s;
    }
    const c = 1 / (1 + q);
    for (let i = 0; i < dims; i++) for (let j = 0; j < dims; j++) m[i * dims + j] -= c * u[i] * u[j];
    for (let i = 0; i < dims; i++) this.b[a][i] += r * x[i];
    for (let i = 0; i < dims; i++) {
      let s = 0;
      for (let j = 0; j < dims; j++) s += m[i * dims + j] * this.b[a][j];
      this.theta[a][i] = s;
    }
  }
}

console.log(`# Decisions and updates: ${arms} offers x ${dims} features, ${steps} steps after ${warm} warm-up updates (best of 5 passes)\n`);
const bandit = new Bandit({ policy: 'linucb', arms, dims, alpha, seed: 1 });
const plain = new PlainLinUcb();
for (let t = 0; t < warm; t++) bandit.update(t % arms, rewards[t], contexts[t]), plain.update(t % arms, contexts[t], rewards[t]);
const chosen = new Int32Array(steps);
const ours = { decide: perStep(5, (t) => (chosen[t] = bandit.decide(contexts[warm + t])!.arm as number)), update: perStep(1, (t) => bandit.update(chosen[t], rewards[warm + t], contexts[warm + t])) };
const plainChosen = new Int32Array(steps);
const reference = { decide: perStep(5, (t) => (plainChosen[t] = plain.decide(contexts[warm + t]))), update: perStep(1, (t) => plain.update(plainChosen[t], contexts[warm + t], rewards[warm + t])) };

let peer: { decideUs: number; updateUs: number } | string = 'skipped: /usr/bin/python3 with numpy is absent';
if (existsSync('/usr/bin/python3')) {
  const dir = await mkdtemp(join(tmpdir(), 'affinity-bandit-'));
  await writeFile(join(dir, 'c.x.f64'), Buffer.from(Float64Array.from(contexts.flatMap((c) => Array.from(c))).buffer));
  await writeFile(join(dir, 'c.r.f64'), Buffer.from(rewards.buffer));
  try {
    const script = fileURLToPath(new URL('./peers/linucb.py', import.meta.url));
    peer = JSON.parse(execFileSync('/usr/bin/python3', [script, JSON.stringify({ prefix: join(dir, 'c'), steps, dims, arms, alpha, warm })], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } }));
  } catch (e) {
    peer = `skipped: ${(e as Error).message.split('\n')[0]}`;
  }
}
const row = (label: string, r: { decide: number; update: number }) => `| ${label} | ${r.decide.toFixed(2)} | ${r.update.toFixed(2)} | ${(r.decide / ours.decide).toFixed(2)}x | ${(r.update / ours.update).toFixed(2)}x |`;
console.log('| LinUCB | decision (us) | update (us) | decision vs Affinity | update vs Affinity |\n|---|---|---|---|---|');
console.log(row('Affinity (native state, through Bandit)', ours));
console.log(row('plain TypeScript, same algebra', reference));
console.log(typeof peer === 'string' ? `| NumPy (einsum over arms) | ${peer} | | | |` : row('NumPy, einsum over arms (1 BLAS thread)', { decide: peer.decideUs, update: peer.updateUs }));
console.log(`\nGoal: decision < 20 us (${ours.decide < 20 ? 'met' : 'missed'}), update < 10 us (${ours.update < 10 ? 'met' : 'missed'}).`);

console.log('\n| policy (50 offers) | decision (us) |\n|---|---|');
for (const policy of ['epsilon-greedy', 'ucb1', 'thompson', 'lin-thompson', 'logistic-thompson'] as BanditPolicyName[]) {
  const contextual = policy.startsWith('lin') || policy.startsWith('log');
  const b = new Bandit({ policy, arms, seed: 1, ...(contextual ? { dims } : {}) });
  for (let t = 0; t < warm; t++) b.update(t % arms, rewards[t], contextual ? contexts[t] : undefined);
  const us = perStep(3, (t) => b.decide(contextual ? contexts[warm + t] : undefined));
  console.log(`| ${policy}${policy.includes('thompson') ? ' (propensity from 256 draws)' : ''} | ${us.toFixed(2)} |`);
}

// Off-policy evaluation at scale: DR over 1M rows and 10 arms with 1,000 bootstrap resamples.
setThreads(2);
const n = 1_000_000, k = 10;
const rng = new Random(3);
const actions = new Int32Array(n), logged = new Float64Array(n), propensities = new Float64Array(n).fill(1 / k);
const target = new Float64Array(n * k), model = new Float64Array(n * k);
for (let i = 0; i < n; i++) {
  actions[i] = rng.int(k);
  logged[i] = rng.next() < 0.05 + 0.01 * actions[i] ? 1 : 0;
  const best = i % k;
  for (let a = 0; a < k; a++) (target[i * k + a] = a === best ? 0.91 : 0.01), (model[i * k + a] = 0.05 + 0.01 * a);
}
const started = performance.now();
const dr = await offPolicyValue({ actions, rewards: logged, propensities }, { probabilities: target }, { arms: k, estimator: 'dr', rewardModel: model, bootstrap: 1000, seed: 1, threads: 2 });
const oursMs = performance.now() - started;
// The plain bootstrap loop on the same per-row terms.
const terms = new Float64Array(n);
for (let i = 0; i < n; i++) {
  let dm = 0;
  for (let a = 0; a < k; a++) dm += target[i * k + a] * model[i * k + a];
  terms[i] = dm + (target[i * k + actions[i]] / propensities[i]) * (logged[i] - model[i * k + actions[i]]);
}
const plainStarted = performance.now();
const draws = new Float64Array(1000);
const boot = new Random(1);
for (let b = 0; b < 1000; b++) {
  let sum = 0;
  for (let j = 0; j < n; j++) sum += terms[Math.floor((boot.nextUint32() * n) / 4294967296)];
  draws[b] = sum / n;
}
const plainMs = performance.now() - plainStarted;
console.log(`\n# Off-policy DR, ${n.toLocaleString()} rows x ${k} arms, 1,000 bootstrap resamples, 2 threads`);
console.log(`value ${dr.value.toFixed(4)}, 95% CI ${dr.ci.map((v) => v.toFixed(4)).join(' to ')}`);
console.log(`| | seconds |\n|---|---|\n| Affinity offPolicyValue (whole estimate, native bootstrap) | ${(oursMs / 1000).toFixed(2)} |\n| plain TypeScript bootstrap loop alone (1 thread) | ${(plainMs / 1000).toFixed(2)} |`);
console.log(`Goal: under 5 s (${oursMs < 5000 ? 'met' : 'missed'}); ${(plainMs / oursMs).toFixed(1)}x the plain loop's speed.`);

// Regret on the simulator: 4 segments, 4 offers, 20,000 customers, mean of 3 seeds.
console.log('\n# Cumulative expected regret on the coupon simulator (4 segments, 4 offers), mean of 3 seeds\n\n| policy | after 5,000 | after 20,000 | second half / first half |\n|---|---|---|---|');
const rounds = 20000;
for (const policy of ['random', 'epsilon-greedy', 'ucb1', 'thompson', 'linucb', 'lin-thompson', 'logistic-thompson'] as const) {
  const curve = new Float64Array(rounds);
  for (const seed of [1, 2, 3]) {
    const sim = new CouponSimulator({ seed, segments: 4 });
    const contextual = policy.startsWith('lin') || policy.startsWith('log');
    const options = policy === 'linucb' ? { alpha: 0.3 } : policy === 'lin-thompson' ? { scale: 0.2 } : policy === 'logistic-thompson' ? { scale: 0.5 } : {};
    const b = policy === 'random' ? null : new Bandit({ policy, arms: sim.offers, seed, ...(contextual ? { dims: sim.dims } : {}), ...options });
    const pick = new Random(seed);
    let total = 0;
    for (let t = 0; t < rounds; t++) {
      const c = sim.customer();
      const a = b ? sim.offers.indexOf(b.decide(contextual ? c.context : undefined)!.arm as string) : pick.int(sim.offers.length);
      total += sim.expectedReward(c, sim.bestOffer(c)) - sim.expectedReward(c, a);
      b?.update(sim.offers[a], sim.respond(c, a), contextual ? c.context : undefined);
      curve[t] += total / 3;
    }
  }
  const half = curve[rounds / 2 - 1];
  console.log(`| ${policy} | ${curve[4999].toFixed(1)} | ${curve[rounds - 1].toFixed(1)} | ${((curve[rounds - 1] - half) / half).toFixed(2)} |`);
}

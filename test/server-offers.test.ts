// Offers over HTTP: decide, reward (404 unknown or expired, 409 twice), stats; a restart resumes from the
// snapshot and the log tail; a torn log tail is cut; kill -9 with rewards in flight loses no acknowledged
// reward and counts none twice (a real server process, killed for real).
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bandit } from '../src/index.js';
import { buildApp, OfferService } from '../src/server/index.js';
import { readDecisionLog } from '../src/io/decisionlog.js';
import { startServe } from './serve-process.js';

const bandit = () => new Bandit({ policy: 'linucb', arms: ['none', 'email', 'coupon'], featureNames: ['bias', 'recent'], alpha: 0.5, seed: 3 });

async function app(dir: string, options: { rewardWindowMs?: number; snapshotEvery?: number } = {}) {
  return buildApp({ pressure: false, offers: { dir, policies: { coupons: bandit(), plain: new Bandit({ policy: 'thompson', arms: ['a', 'b'] }) }, ...options } });
}

describe('offers over HTTP', () => {
  it('decide, reward once, stats', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'affinity-offers-'));
    const server = await app(dir);
    try {
      const post = (url: string, body: object) => server.inject({ method: 'POST', url, payload: body });
      const d = await post('/v1/offers/decide', { customer: 'c1', context: { bias: 1, recent: 0.5 } });
      expect(d.statusCode).toBe(200);
      const decision = d.json();
      expect(decision).toMatchObject({ policy: 'coupons', offer: expect.any(String), propensity: 1 / 3, decisionId: expect.any(String) }); // three untried offers tie
      expect((await post('/v1/offers/reward', { decisionId: decision.decisionId, reward: 1 })).json()).toEqual({ policy: 'coupons', decisionId: decision.decisionId, offer: decision.offer, reward: 1 });
      const again = await post('/v1/offers/reward', { decisionId: decision.decisionId, reward: 1 });
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('ERR_AFFINITY_CONFLICT');
      expect((await post('/v1/offers/reward', { decisionId: 'nope', reward: 1 })).statusCode).toBe(404);
      expect((await post('/v1/offers/reward', { decisionId: decision.decisionId, reward: 'x' })).statusCode).toBe(400);
      // Context as an array, candidates, a policy by name, the non-contextual one without a context.
      expect((await post('/v1/offers/decide', { customer: 'c2', context: [1, 0], candidates: ['coupon'] })).json().offer).toBe('coupon');
      const plain = (await post('/v1/offers/decide', { policy: 'plain', customer: 7 })).json();
      expect(plain).toMatchObject({ policy: 'plain', offer: expect.stringMatching(/^[ab]$/), decisionId: expect.any(String) });
      expect(plain.propensity).toBeGreaterThan(0);
      // A Thompson policy refuses a reward outside [0, 1], and the decision stays open for a valid one.
      expect((await post('/v1/offers/reward', { decisionId: plain.decisionId, reward: 3 })).statusCode).toBe(422);
      expect((await post('/v1/offers/reward', { decisionId: plain.decisionId, reward: 0 })).statusCode).toBe(200);
      // Bad requests: no context for a contextual policy, wrong length, unknown policy, extra fields.
      expect((await post('/v1/offers/decide', { customer: 'c3' })).statusCode).toBe(422);
      expect((await post('/v1/offers/decide', { customer: 'c3', context: [1] })).statusCode).toBe(422);
      expect((await post('/v1/offers/decide', { policy: 'nope', customer: 'c3' })).statusCode).toBe(404);
      expect((await post('/v1/offers/decide', { customer: 'c3', context: [1, 0], extra: 1 })).statusCode).toBe(400);
      const stats = (await server.inject({ method: 'GET', url: '/v1/offers/stats' })).json();
      expect(stats.policy).toBe('coupons');
      const shown = stats.offers.find((o: { offer: string }) => o.offer === decision.offer);
      expect(shown).toMatchObject({ rewarded: 1, rewardSum: 1 });
      expect(stats.offers.reduce((s: number, o: { shows: number }) => s + o.shows, 0)).toBe(2);
      expect(shown.ci[0]).toBeLessThanOrEqual(shown.rate);
      expect(shown.ci[1]).toBeGreaterThanOrEqual(shown.rate);
      const log = await readDecisionLog(join(dir, 'coupons', 'decisions.log'));
      expect(log.records.map((r) => r.t)).toEqual(['h', 'd', 'r', 'd']);
    } finally {
      await server.close();
    }
  });

  it('expired decisions are 404; a server without offers answers 404', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'affinity-offers-'));
    const server = await app(dir, { rewardWindowMs: 1 });
    try {
      const { decisionId } = (await server.inject({ method: 'POST', url: '/v1/offers/decide', payload: { customer: 'c', context: [1, 1] } })).json();
      await new Promise((r) => setTimeout(r, 10));
      expect((await server.inject({ method: 'POST', url: '/v1/offers/reward', payload: { decisionId, reward: 1 } })).statusCode).toBe(404);
    } finally {
      await server.close();
    }
    const bare = await buildApp({ pressure: false });
    expect((await bare.inject({ method: 'GET', url: '/v1/offers/stats' })).statusCode).toBe(404);
    await bare.close();
  });

  it('a restart resumes: from the snapshot after a clean close, from the log tail after a crash, a torn tail cut', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'affinity-offers-'));
    const reference = bandit();
    const service = await OfferService.open({ dir, policies: { coupons: bandit() }, snapshotEvery: 3 });
    const open: string[] = [];
    for (let t = 0; t < 10; t++) {
      const context = [1, (t % 4) / 4];
      const d = await service.decide({ customer: `c${t}`, context });
      if (t % 3 === 2) {
        open.push(d.decisionId!);
        continue;
      }
      await service.reward(d.decisionId!, t % 2);
      // Acknowledged means written: the record is in the file when the reward resolves.
      expect(readFileSync(join(dir, 'coupons', 'decisions.log'), 'utf8')).toContain(`"t":"r","id":"${d.decisionId}"`);
      reference.update(d.offer!, t % 2, context);
    }
    // Crash: no close. A second service on the same directory replays snapshot + tail.
    const crashed = await OfferService.open({ dir, policies: { coupons: bandit() }, snapshotEvery: 3 });
    expect(crashed.stats()).toEqual(service.stats());
    expect([...crashed.bandit().coefficients('email')]).toEqual([...reference.coefficients('email')].map((v) => expect.closeTo(v, 12)));
    // Decisions still open before the crash can be rewarded after it; rewarded ones stay rewarded.
    await crashed.reward(open[0], 1);
    await expect(crashed.reward(open[0], 1)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CONFLICT' });
    await crashed.close();
    // A torn last line (a write cut by a crash) is dropped on open; a damaged line before it is corruption.
    const path = join(dir, 'coupons', 'decisions.log');
    const before = (await stat(path)).size;
    await appendFile(path, '1234abcd {"t":"r","id":"half');
    const reopened = await OfferService.open({ dir, policies: { coupons: bandit() } });
    expect((await stat(path)).size).toBe(before);
    expect(reopened.stats()).toEqual(crashed.stats());
    await reopened.close();
    const text = await readFile(path, 'utf8');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, text.replace('"t":"d"', '"t":"D"'));
    await expect(OfferService.open({ dir, policies: { coupons: bandit() } })).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE' });
  });
});

describe('compaction', () => {
  it('keeps the log to the open decisions, resumes exactly, and finishes or discards an interrupted rotation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'affinity-compact-'));
    const options = { dir, policies: { coupons: bandit() }, snapshotEvery: 5, compactBytes: 2000 };
    const reference = bandit();
    const service = await OfferService.open(options);
    const open: string[] = [];
    const rewarded: string[] = [];
    for (let t = 0; t < 300; t++) {
      const context = [1, (t % 5) / 5];
      const d = await service.decide({ customer: `c${t}`, context });
      if (t % 4 === 3) {
        open.push(d.decisionId!);
        continue;
      }
      await service.reward(d.decisionId!, t % 3 === 0 ? 1 : 0);
      rewarded.push(d.decisionId!);
      reference.update(d.offer!, t % 3 === 0 ? 1 : 0, context);
    }
    const before = service.stats();
    await service.close();
    const path = join(dir, 'coupons', 'decisions.log');
    const log = await readDecisionLog(path);
    // 300 decisions and 225 rewards were written; the compacted log holds the open decisions and the rewarded ones of the window.
    expect(log.records[0]).toMatchObject({ t: 'h' });
    // Everything is inside the reward window, so every decision stays; the rewarded ones without their context.
    const decisions = log.records.filter((r) => r.t === 'd') as { id: string; x: number[] }[];
    expect(decisions.length).toBe(300);
    expect(decisions.filter((d) => d.x.length === 0).length).toBeGreaterThan(200);
    expect((log.records[0] as { generation: number }).generation).toBeGreaterThan(1);
    const again = await OfferService.open(options);
    expect(again.stats()).toEqual(before);
    expect([...again.bandit().coefficients('coupon')]).toEqual([...reference.coefficients('coupon')].map((v) => expect.closeTo(v, 12)));
    await again.reward(open[0], 1);
    await expect(again.reward(rewarded[0], 1)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CONFLICT' });
    const after = again.stats();
    await again.close();
    // A crash between the successor and the snapshot: the successor names a generation the snapshot does not, and is dropped.
    const generation = ((await readDecisionLog(path)).records[0] as { generation: number }).generation;
    const { writeFile, rename } = await import('node:fs/promises');
    await writeFile(`${path}.next`, '');
    const third = await OfferService.open(options);
    expect(third.stats()).toEqual(after);
    await third.close();
    expect(existsSync(`${path}.next`)).toBe(false);
    // A crash between the snapshot and the rename: the successor is the snapshot's generation, and replaces the log.
    const latest = ((await readDecisionLog(path)).records[0] as { generation: number }).generation;
    expect(latest).toBeGreaterThanOrEqual(generation);
    await rename(path, `${path}.next`);
    await writeFile(path, '');
    const fourth = await OfferService.open(options);
    expect(fourth.stats()).toEqual(after);
    await fourth.close();
  });
});

describe('kill -9 with rewards in flight', () => {
  const start = (dir: string, policy: string, port: number) => startServe(['--policy', `coupons=${policy}`, '--offers', dir], port);
  const post = (url: string, path: string, body: object) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('every acknowledged reward survives, and each decision counts one reward', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'affinity-kill-'));
    const policy = join(dir, 'coupons.affinity');
    await new Bandit({ policy: 'thompson', arms: ['none', 'email', 'coupon'], seed: 2 }).save(policy);
    const port = 20000 + Math.floor(Math.random() * 20000);
    let { child, url } = await start(join(dir, 'offers'), policy, port);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 200; i++) ids.push(((await (await post(url, '/v1/offers/decide', { customer: `c${i}` })).json()) as { decisionId: string }).decisionId);
      // All rewards at once; kill -9 as soon as the first is acknowledged, with the rest in flight.
      const acknowledged = new Set<string>();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await Promise.all(
        ids.map((id) =>
          post(url, '/v1/offers/reward', { decisionId: id, reward: 1 }).then(
            (r) => {
              if (r.status === 200) acknowledged.add(id);
              child.kill('SIGKILL');
            },
            () => {},
          ),
        ),
      );
      await exited;
      expect(acknowledged.size).toBeGreaterThan(0);
      ({ child, url } = await start(join(dir, 'offers'), policy, port));
      // Retry every reward: acknowledged ones are 409 (on disk), the others are counted now.
      for (const id of ids) {
        const r = await post(url, '/v1/offers/reward', { decisionId: id, reward: 1 });
        if (acknowledged.has(id)) expect(r.status, `acknowledged ${id}`).toBe(409);
        else expect([200, 409]).toContain(r.status);
      }
      const stats = (await (await fetch(`${url}/v1/offers/stats`)).json()) as { offers: { shows: number; rewarded: number }[] };
      expect(stats.offers.reduce((s, o) => s + o.rewarded, 0)).toBe(ids.length);
      expect(stats.offers.reduce((s, o) => s + o.shows, 0)).toBe(ids.length);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

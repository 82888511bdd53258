import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { similarity, capabilities, ItemKNN, setSimdLevel, AffinityError, ALS, kmeans } from '../src/index.js';
import { native } from '../src/core/native.js';
import { generate } from '../src/data/synthetic.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('jobs', () => {
  it('reports progress up to 1 and can be cancelled mid-run', async () => {
    const data = await generate({ users: 20_000, items: 8_000, interactions: 600_000, seed: 1 });
    const seen: number[] = [];
    await similarity(data, { k: 20, onProgress: (f) => seen.push(f) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= seen[i - 1]))).toBe(true);
    expect(seen[seen.length - 1]).toBe(1);

    const controller = new AbortController();
    const reason = new Error('user went away');
    const running = similarity(data, {
      k: 20,
      threads: 1,
      onProgress: (f) => {
        if (f > 0.05) controller.abort(reason);
      },
      signal: controller.signal,
    });
    await expect(running).rejects.toMatchObject({ code: 'ERR_AFFINITY_CANCELLED', cause: reason });
    // Already aborted: rejected before any work.
    await expect(similarity(data, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_AFFINITY_CANCELLED' });
  });

  it('delivers every progress and iteration callback before the Promise settles', async () => {
    const data = await generate({ users: 3000, items: 1500, interactions: 60_000, seed: 4 });
    const points = { values: new Float32Array(4000).map((_, i) => (i * 7919) % 13), rows: 1000, dims: 4 };
    /** Runs a job and returns the callbacks that came after its Promise settled. */
    async function lateCallbacks(job: (record: (what: string) => void) => Promise<unknown>): Promise<string[]> {
      let settled = false;
      const late: string[] = [];
      await job((what) => settled && late.push(what)).catch(() => {});
      settled = true;
      await new Promise((r) => setTimeout(r, 5)); // anything still queued arrives here
      return late;
    }
    for (let run = 0; run < 15; run++) {
      const iterations: number[] = [];
      const als = await lateCallbacks((record) =>
        new ALS({ factors: 8, iterations: 2, threads: 2 }).fit(data, { onProgress: (f) => record(`progress ${f}`), onIteration: (i) => (iterations.push(i), record(`iteration ${i}`)) }),
      );
      expect(als, `run ${run}`).toEqual([]);
      expect(iterations).toEqual([0, 1]);
      expect(await lateCallbacks((record) => kmeans(points, { k: 3, onIteration: (i) => record(`kmeans ${i}`) })), `run ${run}`).toEqual([]);
      expect(await lateCallbacks((record) => similarity(data, { k: 5, onProgress: (f) => record(`similarity ${f}`) })), `run ${run}`).toEqual([]);
    }
    // A rejected job too: the callbacks it queued come before the rejection.
    const cancelled = await lateCallbacks((record) => new ALS({ factors: 8, iterations: 50 }).fit(data, { signal: AbortSignal.timeout(5), onProgress: (f) => record(`progress ${f}`) }));
    expect(cancelled).toEqual([]);
  });

  it('a cancelled fit leaves the previous model in place', async () => {
    const data = await generate({ users: 20_000, items: 8_000, interactions: 600_000, seed: 2 });
    const model = await new ItemKNN({ k: 10 }).fit(data);
    const before = model.recommend(0);
    const controller = new AbortController();
    const fit = model.fit(data, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(fit).rejects.toBeInstanceOf(AffinityError);
    expect(model.recommend(0)).toEqual(before);
  });

  it('does not block the event loop while computing', async () => {
    const data = await generate({ users: 20_000, items: 8_000, interactions: 600_000, seed: 3 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await similarity(data, { k: 50, threads: 1 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(5);
  });
});

describe('addon', () => {
  it('exports exactly the functions NativeBinding declares', () => {
    expect(Object.keys(native).sort()).toEqual(
      ['AlsModel', 'CsvReader', 'KnnModel', 'alsFit', 'alsScoredItems', 'alsSolveRows', 'buildCsr', 'canonicalCsr', 'capabilities', 'crc32', 'mapFile', 'setErrorClass', 'setSimdLevel', 'setThreads', 'similarity', 'transpose', 'verifyCsr', 'verifyFinite', 'multiply', 'kmeans', 'nearestCentroid', 'silhouette', 'logisticFit', 'clvFit', 'clvPerCustomer', 'clvExpected', 'clvProbabilityOfPurchases', 'columnCounts', 'orderByCount', 'injectFault', 'forestFit', 'ForestModel', 'treeBins', 'BanditModel', 'bootstrapMeans', 'easeFit', 'easeFitBytes', 'bprFit', 'bprStep'].sort(),
    );
  });

  it('orders by count (ties by index) and rejects negative counts', () => {
    expect(Array.from(native.orderByCount(Int32Array.of(2, 5, 2, 0, 5)))).toEqual([1, 4, 0, 2, 3]);
    expect(native.orderByCount(new Int32Array(0)).length).toBe(0);
    expect(() => native.orderByCount(Int32Array.of(1, -1))).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
  });

  it('computes the same CRC-32 as zlib, off the JS thread', async () => {
    const { crc32 } = await import('node:zlib');
    for (const n of [0, 1, 7, 8, 9, 1000, 65537]) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 0xff);
      expect(await native.crc32(bytes)).toBe(crc32(bytes) >>> 0);
      expect(await native.crc32(bytes.subarray(n >> 1), await native.crc32(bytes.subarray(0, n >> 1)))).toBe(crc32(bytes) >>> 0);
    }
  });

  it('reports capabilities and refuses levels the CPU lacks', () => {
    const caps = capabilities();
    expect(caps.simdLevels[0]).toBe('scalar');
    expect(caps.simdLevels).toContain(caps.simd);
    expect(caps.threads).toBeGreaterThanOrEqual(1);
    const lacking = (['avx2', 'avx512', 'neon'] as const).filter((level) => !caps.simdLevels.includes(level));
    expect(lacking.length).toBeGreaterThan(0); // no CPU has both NEON and AVX2
    for (const level of lacking) expect(() => setSimdLevel(level)).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_SIMD_UNAVAILABLE' }));
    expect(() => setSimdLevel('sse' as 'scalar')).toThrow(expect.objectContaining({ code: 'ERR_AFFINITY_BAD_INPUT' }));
  });

  it('AFFINITY_SIMD forces a level at load, and an unavailable level is a clear error', () => {
    const run = (value: string) =>
      execFileSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/index.ts').then(m => console.log(m.capabilities().simd)).catch(e => console.log(e.code))"], {
        cwd: root,
        env: { ...process.env, AFFINITY_SIMD: value },
        encoding: 'utf8',
      }).trim();
    expect(run('scalar')).toBe('scalar');
    expect(run('bogus')).toBe('ERR_AFFINITY_BAD_INPUT');
    const missing = (['avx512', 'neon', 'avx2'] as const).find((l) => !capabilities().simdLevels.includes(l));
    expect(missing).toBeDefined();
    expect(run(missing!)).toBe('ERR_AFFINITY_SIMD_UNAVAILABLE');
  });

  it('loads, works and unloads in worker threads', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(root + 'dist/src/index.js')}).then(async (m) => {
        const d = await m.Interactions.fromArrays({ users: ['a','a','b'], items: ['x','y','x'] });
        const s = await m.similarity(d, { k: 2 });
        parentPort.postMessage(s.neighbors('x').map(n => n.id).join(','));
      });`;
    for (let round = 0; round < 3; round++) {
      const worker = new Worker(code, { eval: true });
      const message = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(message).toBe('y');
      await worker.terminate();
    }
  });
});

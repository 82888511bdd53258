// Errors in one place: the native codes are the table's codes; every native entry point is guarded, so a
// bad_alloc, a core error or any std::exception becomes an AffinityError with a code (never a crash); errors
// from asynchronous work carry the caller's stack.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AffinityError, ALS, Interactions, ItemKNN, similarity } from '../src/index.js';
import { ERRORS, ErrorCode, httpStatusOf } from '../src/core/errors.js';
import { native } from '../src/core/native.js';
import { randomInteractions } from './helpers.js';

const FAULTS = [
  ['bad_alloc', ErrorCode.OutOfMemory],
  ['core', ErrorCode.BadInput],
  ['std', ErrorCode.Internal],
] as const;

describe('the error table', () => {
  it('holds every code the native core throws, once each', () => {
    const header = readFileSync(new URL('../native/core/error.h', import.meta.url), 'utf8');
    const nativeCodes = [...header.matchAll(/"(ERR_AFFINITY_[A-Z_0-9]+)"/g)].map((m) => m[1]);
    expect(nativeCodes.length).toBeGreaterThan(5);
    const ours = Object.values(ERRORS).map((e) => e.code);
    expect(new Set(ours).size).toBe(ours.length);
    for (const code of nativeCodes) expect(ours).toContain(code);
  });

  it('gives each code its HTTP status', () => {
    expect(httpStatusOf(ErrorCode.BadInput)).toBe(422);
    expect(httpStatusOf(ErrorCode.UnknownId)).toBe(404);
    expect(httpStatusOf(ErrorCode.Busy)).toBe(503);
    expect(httpStatusOf('ERR_SOMETHING_ELSE')).toBe(500);
  });
});

describe('every native entry point is guarded', () => {
  // (The async test below runs every job of the addon; a job that is added must be added there.)
  it('module functions turn bad_alloc, core errors and std::exception into AffinityErrors', () => {
    const functions = Object.entries(native).filter(([name, v]) => typeof v === 'function' && /^[a-z]/.test(name) && name !== 'injectFault');
    expect(functions.length).toBeGreaterThan(15);
    for (const [name, f] of functions) {
      for (const [fault, code] of FAULTS) {
        native.injectFault('call', fault);
        let thrown: unknown;
        try {
          // No arguments: an unguarded function would fail its argument checks with a TypeError instead.
          const r = (f as () => unknown)();
          if (r instanceof Promise) r.catch(() => {});
        } catch (err) {
          thrown = err;
        }
        expect(thrown, `${name} with ${fault}`).toBeInstanceOf(AffinityError);
        expect((thrown as AffinityError).code, `${name} with ${fault}`).toBe(code);
      }
    }
  });

  it('so do the methods of every native class', async () => {
    const data = await randomInteractions({ users: 20, items: 15, density: 0.3, seed: 1 });
    const als = await new ALS({ factors: 4, iterations: 1 }).fit(data);
    const knn = await new ItemKNN({ k: 5 }).fit(data);
    const instances = {
      AlsModel: (als as unknown as { state: { scorer: object } }).state.scorer,
      KnnModel: (knn as unknown as { model: object }).model,
      CsvReader: new native.CsvReader({ delimiter: ',', header: false, skipInvalid: false, columns: { user: 0, item: 1 } }),
    };
    let checked = 0;
    for (const [cls, instance] of Object.entries(instances)) {
      const proto = Object.getPrototypeOf(instance);
      const methods = Object.getOwnPropertyNames(proto).filter((m) => m !== 'constructor' && typeof proto[m] === 'function');
      expect(methods.length, cls).toBeGreaterThan(1);
      for (const m of methods) {
        for (const [fault, code] of FAULTS) {
          native.injectFault('call', fault);
          expect(() => {
            const r = proto[m].call(instance);
            if (r instanceof Promise) r.catch(() => {});
          }, `${cls}.${m} with ${fault}`).toThrow(expect.objectContaining({ code }));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(3 * 15);
  });

  it('asynchronous work rejects with a code and the stack of its caller', async () => {
    const data = await randomInteractions({ users: 20, items: 15, density: 0.3, seed: 2 });
    const als = await new ALS({ factors: 4, iterations: 1 }).fit(data);
    const csc = await data.toCSC();
    const csvPath = join(await mkdtemp(join(tmpdir(), 'affinity-errors-')), 'x.csv');
    writeFileSync(csvPath, 'a,b,1\n');
    const vectors = Float32Array.of(0, 0, 0, 1, 1, 0, 5, 5, 5, 6, 6, 5);
    const jobs: Record<string, () => Promise<unknown>> = {
      buildCsr: () => Interactions.fromArrays({ users: ['a', 'b'], items: ['x', 'y'] }),
      transpose: () => native.transpose(data.csr, null, null),
      similarity: () => similarity(data, { k: 3 }),
      alsFit: () => new ALS({ factors: 2, iterations: 1 }).fit(data),
      recommendBatch: () => als.recommendBatch([0, 1], { k: 3 }),
      recommendForAsync: () => als.recommendForAsync({ items: [0, 1] }),
      prepare: () => als.prepare(),
      crc32: () => native.crc32(new Uint8Array(10)),
      canonicalCsr: () => native.canonicalCsr(data.csr, 'sum', null, null),
      multiply: () => native.multiply(data.csr, csc, 0, null, null),
      verifyCsr: () => native.verifyCsr(data.csr, true, null, null),
      verifyFinite: () => native.verifyFinite(new Float32Array(4), 'x'),
      alsSolveRows: () => native.alsSolveRows(data.csr, als.options, als.factors, true, Int32Array.of(0, 1), null, null),
      similarAsync: () => als.similarItemsAsync(0, { k: 3 }),
      csvPush: () => Interactions.fromFile(csvPath),
      kmeans: () => native.kmeans(vectors, 6, 2, { k: 2, iterations: 5, tolerance: 0, seed: 1, threads: 0 }, null, null, null),
      nearestCentroid: () => native.nearestCentroid(vectors, 6, 2, vectors.subarray(0, 4), 2, 0, null, null),
      silhouette: () => native.silhouette(vectors, 6, 2, Int32Array.of(0, 0, 0, 1, 1, 1), 0, null, null),
      logisticFit: () =>
        native.logisticFit({ dense: vectors, rows: 6, dims: 2 }, Float32Array.of(0, 0, 0, 1, 1, 1), null, { l2: 1, fitIntercept: true, maxIterations: 5, tolerance: 1e-6, memory: 5, threads: 0 }, null, null, null),
    };
    expect.assertions(Object.keys(jobs).length * FAULTS.length * 3);
    for (const [name, job] of Object.entries(jobs)) {
      for (const [fault, code] of FAULTS) {
        native.injectFault('job', fault);
        const err = (await job().then(
          () => undefined,
          (e: unknown) => e,
        )) as AffinityError | undefined;
        expect(err, `${name} with ${fault}`).toBeInstanceOf(AffinityError);
        expect(err?.code, `${name} with ${fault}`).toBe(code);
        expect(err?.stack ?? '', `${name}: the stack names this test`).toContain('errors.test.ts');
      }
    }
  });
});

import { capabilities, Interactions, setSimdLevel, type SimdLevel } from '../src/index.js';
import { Random } from '../src/core/random.js';
import type { RefRow } from './reference.js';
import type { SimilarityMatrix } from '../src/models/similarity.js';
import { expect } from 'vitest';

/** Every SIMD level this CPU can run; tests loop over them. */
export const LEVELS = capabilities().simdLevels as SimdLevel[];
const BEST = capabilities().simd as SimdLevel;

export async function atEachLevel(fn: (level: SimdLevel) => Promise<void>): Promise<void> {
  try {
    for (const level of LEVELS) {
      setSimdLevel(level);
      await fn(level);
    }
  } finally {
    setSimdLevel(BEST);
  }
}

export interface RandomSpec {
  users: number;
  items: number;
  density: number;
  seed: number;
  /** integer ratings 1..5 (default), or ones */
  values?: 'ratings' | 'ones' | 'real';
}

export async function randomInteractions(spec: RandomSpec): Promise<Interactions> {
  const rng = new Random(spec.seed);
  const users: number[] = [];
  const items: number[] = [];
  const values: number[] = [];
  for (let u = 0; u < spec.users; u++) {
    for (let i = 0; i < spec.items; i++) {
      // Skewed: low item ids are popular, so similarities have structure and ties are rare.
      if (rng.next() < spec.density * (1.5 - i / spec.items)) {
        users.push(u);
        items.push(i);
        values.push(spec.values === 'ones' ? 1 : spec.values === 'real' ? 0.1 + rng.next() * 4 : 1 + rng.int(5));
      }
    }
  }
  return Interactions.fromIndices(
    { rows: Int32Array.from(users), cols: Int32Array.from(items), values: Float32Array.from(values), shape: [spec.users, spec.items] },
    {},
  );
}

/** Asserts top-K rows agree with the reference: same scores (rel 1e-5) and same neighbours unless tied. */
export function expectSameNeighbours(sim: SimilarityMatrix, ref: RefRow[][], tolerance = 1e-5): void {
  expect(sim.size).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const idx = Array.from(sim.indices.subarray(sim.indptr[i], sim.indptr[i + 1]));
    const val = Array.from(sim.data.subarray(sim.indptr[i], sim.indptr[i + 1]));
    expect(idx.length, `row ${i} length`).toBe(ref[i].length);
    for (let r = 0; r < idx.length; r++) {
      const want = ref[i][r];
      expect(Math.abs(val[r] - want.score), `row ${i} rank ${r} score`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(want.score)));
      if (idx[r] !== want.index) {
        // Only acceptable when the two candidates tie within float32 precision.
        const theirs = ref[i].find((x) => x.index === idx[r])?.score ?? ref[i][ref[i].length - 1].score;
        expect(Math.abs(theirs - want.score), `row ${i} rank ${r}: ${idx[r]} vs ${want.index}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(want.score)));
      }
    }
  }
}

/** The code of the error fn throws ('none' when it returns). */
export function errorCodeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'none';
}

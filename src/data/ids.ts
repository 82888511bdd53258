// Caller ids (strings or numbers) <-> dense indices.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';

export type Id = string | number;

export class IdMap {
  private index?: Map<Id, number>;
  constructor(readonly ids: readonly Id[], private readonly kind: 'user' | 'item') {}

  get size(): number {
    return this.ids.length;
  }

  private lookup(): Map<Id, number> {
    if (!this.index) {
      const index = new Map<Id, number>();
      this.indexRange(index, 0, this.ids.length);
      this.index = index;
    }
    return this.index;
  }

  private indexRange(index: Map<Id, number>, start: number, end: number): void {
    for (let i = start; i < end; i++) index.set(this.ids[i], i);
  }

  /**
   * Builds the lookup in slices, yielding to the event loop between them: a server loading a model with
   * millions of ids keeps answering meanwhile. Optional; the lookup is otherwise built on first use.
   */
  async buildIndex(slice = 20_000): Promise<void> {
    if (this.index) return;
    const index = new Map<Id, number>();
    for (let start = 0; start < this.ids.length; start += slice) {
      const end = Math.min(this.ids.length, start + slice);
      this.indexRange(index, start, end);
      if (end < this.ids.length) await new Promise((resolve) => setImmediate(resolve));
    }
    this.index ??= index;
  }

  hasDuplicates(): boolean {
    return this.lookup().size !== this.ids.length;
  }

  has(id: Id): boolean {
    return this.lookup().has(id);
  }

  /** The dense index of an id, or -1. */
  find(id: Id): number {
    return this.lookup().get(id) ?? -1;
  }

  /** The dense index of an id; unknown ids throw ERR_AFFINITY_UNKNOWN_ID, values that are no id BAD_INPUT. */
  indexOf(id: Id, what: string = this.kind): number {
    checkId(id, what);
    const i = this.lookup().get(id);
    if (i === undefined) throw new AffinityError(`unknown ${this.kind} id ${JSON.stringify(id)}`, ErrorCode.UnknownId);
    return i;
  }

  /** Indices of the known ids among `ids` (unknown ones are dropped). */
  knownIndices(ids: readonly Id[] | undefined, what: string): Int32Array | null {
    if (ids === undefined) return null;
    if (!Array.isArray(ids)) throw badInput(`${what} must be an array of ids`);
    const out: number[] = [];
    for (const id of ids) {
      checkId(id, what);
      const i = this.find(id);
      if (i >= 0) out.push(i);
    }
    return Int32Array.from(out);
  }
}

/** The longest string id, in UTF-16 code units: URLs and SKUs fit; the HTTP schemas accept the same. */
export const MAX_ID_LENGTH = 1024;

/** Why a value is not an id (strings of 1 to MAX_ID_LENGTH characters, or finite numbers), or undefined when it is one. */
export function idProblem(id: unknown): string | undefined {
  if (typeof id === 'string') {
    if (id.length === 0) return 'ids must not be empty';
    if (id.length > MAX_ID_LENGTH) return `ids are at most ${MAX_ID_LENGTH} characters, got one of ${id.length}`;
    return undefined;
  }
  if (typeof id === 'number' && Number.isFinite(id)) return undefined;
  return `ids must be strings or finite numbers, got ${typeof id === 'number' ? String(id) : id === null ? 'null' : typeof id}`;
}

/** The one id rule, for every id a caller gives: ERR_AFFINITY_BAD_INPUT otherwise. */
export function checkId(id: unknown, what: string): asserts id is Id {
  const problem = idProblem(id);
  if (problem !== undefined) throw badInput(`${what}: ${problem}`);
}

/** Maps ids to dense indices in order of first appearance. */
export function internIds(values: ArrayLike<unknown>, what: string): { indices: Int32Array; ids: Id[] } {
  const map = new Map<Id, number>();
  const ids: Id[] = [];
  const indices = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const id = values[i];
    let index = map.get(id as Id);
    if (index === undefined) {
      checkId(id, `${what}[${i}]`);
      index = ids.length;
      map.set(id, index);
      ids.push(id);
    }
    indices[i] = index;
  }
  return { indices, ids };
}

/**
 * Finds a caller's id in an id map. JSON cannot tell "42" from 42, so each falls back to the other
 * spelling. Returns undefined when neither is known.
 */
export function resolveId(ids: { has(id: Id): boolean }, id: Id): Id | undefined {
  if (ids.has(id)) return id;
  const other = typeof id === 'number' ? String(id) : /^-?\d+(\.\d+)?$/.test(id) ? Number(id) : undefined;
  return other !== undefined && ids.has(other) ? other : undefined;
}

/** The rows of a map that are not these ids (erasure), or undefined when it holds none of them. */
export function rowsWithout(map: IdMap, drop: Iterable<Id>): Int32Array | undefined {
  const gone = new Set<number>();
  for (const id of drop) {
    const i = map.find(id);
    if (i >= 0) gone.add(i);
  }
  if (gone.size === 0) return undefined;
  const rows = new Int32Array(map.size - gone.size);
  let n = 0;
  for (let i = 0; i < map.size; i++) if (!gone.has(i)) rows[n++] = i;
  return rows;
}

// The events store, the same cases on both back ends: a SQLite file and a PostgreSQL database.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore, parseStoreSpec } from '../src/events/store.js';
import { checkEvents, strengthOf } from '../src/events/event.js';
import { freshPostgres, postgresAvailable, tempDir } from './stores.js';

const dir = tempDir();
const BACKENDS = [
  { kind: 'sqlite', run: true, spec: async () => `sqlite:${join(dir, `e${Math.random().toString(36).slice(2)}.db`)}` },
  { kind: 'postgres', run: postgresAvailable(), spec: freshPostgres },
];

const purchase = (id: string | undefined, customer: string, item: string, time = '2026-11-01T10:00:00Z') => ({ id, type: 'purchase', customer, item, time });

describe('event validation', () => {
  it('normalizes an event and refuses what is wrong, naming the place in the batch', () => {
    const [e] = checkEvents({ type: 'rating', customer: 7, item: 'a', value: 4, time: 1_700_000_000 });
    expect(e).toMatchObject({ customer: '7', item: 'a', value: 4, time: 1_700_000_000_000, id: null });
    const refused = (input: unknown) => {
      try {
        checkEvents(input);
        return 'accepted';
      } catch (err) {
        return `${(err as { code: string }).code}: ${(err as Error).message}`;
      }
    };
    expect(refused([purchase('a', 'c', 'i'), { type: 'purchase', customer: 'c' }])).toMatch(/BAD_INPUT: events\[1\]: a purchase event needs an item/);
    expect(refused({ type: 'rating', customer: 'c', item: 'i' })).toMatch(/needs a value/);
    expect(refused({ type: 'view', customer: 'c', item: 'i', value: NaN })).toMatch(/finite/);
    expect(refused({ type: 'view', customer: 'c', item: 'i', colour: 'red' })).toMatch(/unknown field "colour"/);
    expect(refused({ type: 'view', customer: 'c', item: 'i', time: 'yesterday' })).toMatch(/ISO-8601/);
    expect(refused({ type: 'view', customer: {}, item: 'i' })).toMatch(/customer/);
    expect(refused({ type: 'custom-thing', customer: 'c', attributes: { big: 'x'.repeat(9000) } })).toMatch(/8192 bytes/);
    expect(refused([])).toMatch(/no events/);
    expect(refused(new Array(10_001).fill(purchase(undefined, 'c', 'i')))).toMatch(/at most 10000/);
    expect(refused({ type: 'signup', customer: 'c' })).toBe('accepted');
  });

  it('gives each event a strength: its value, else its type weight', () => {
    expect(strengthOf({ type: 'purchase', value: null })).toBe(1);
    expect(strengthOf({ type: 'view', value: null })).toBe(0.1);
    expect(strengthOf({ type: 'rating', value: 4 })).toBe(4);
    expect(strengthOf({ type: 'signup', value: null })).toBe(1);
  });

  it('parses store specs and hides credentials in errors', () => {
    expect(parseStoreSpec('sqlite:./x.db')).toEqual({ kind: 'sqlite', path: './x.db' });
    expect(parseStoreSpec('events.sqlite')).toEqual({ kind: 'sqlite', path: 'events.sqlite' });
    expect(parseStoreSpec('postgresql://u:p@h/db').kind).toBe('postgres');
    expect(() => parseStoreSpec('mysql://user:secret@host/db')).toThrow(/mysql:\/\/\*\*\*@host/);
    expect(() => parseStoreSpec('sqlite:')).toThrow(/needs a file path/);
  });
});

describe.each(BACKENDS)('$kind events store', ({ kind, run, spec }) => {
  let store: EventStore;
  beforeAll(async () => {
    if (run) store = await EventStore.open(await spec());
  });
  afterAll(async () => store?.close());

  it.runIf(run)('stores events once by id, in seq order, and reads them back', async () => {
    expect(store.kind).toBe(kind);
    const first = await store.append([purchase('e1', 'alice', 'x'), purchase('e2', 'alice', 'y'), { type: 'view', customer: 'bob', item: 'x', attributes: { page: 3 } }]);
    expect(first).toMatchObject({ stored: 3, duplicates: 0, forgotten: 0 });
    const again = await store.append([purchase('e1', 'alice', 'x'), purchase('e3', 'alice', 'z')]);
    expect(again).toMatchObject({ stored: 1, duplicates: 1 });
    expect(again.lastSeq).toBeGreaterThan(first.lastSeq);
    const alice = await store.eventsOf('alice');
    expect(alice.map((e) => e.item)).toEqual(['x', 'y', 'z']);
    expect(alice[0]).toMatchObject({ id: 'e1', type: 'purchase', customer: 'alice', time: Date.parse('2026-11-01T10:00:00Z'), attributes: null });
    const all = await store.scan();
    expect(all.map((e) => e.seq)).toEqual([...all.map((e) => e.seq)].sort((a, b) => a - b));
    expect(all.find((e) => e.customer === 'bob')?.attributes).toEqual({ page: 3 });
    expect(await store.count()).toBe(4);
    expect(await store.lastSeq()).toBe(again.lastSeq);
  });

  it.runIf(run)('rejects a whole batch when one event is bad: nothing of it is stored', async () => {
    const before = await store.count();
    await expect(store.append([purchase('ok1', 'carol', 'x'), { type: 'purchase', customer: 'carol' }])).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
    expect(await store.count()).toBe(before);
    expect(await store.eventsOf('carol')).toEqual([]);
  });

  it.runIf(run)('answers concurrent appends each with its own counts (group commit)', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, b) => store.append(Array.from({ length: 50 }, (_, i) => purchase(`g${b}-${i % 40}`, `u${b}`, `i${i}`)))));
    for (const r of results) expect(r).toMatchObject({ stored: 40, duplicates: 10 });
    expect((await store.eventsOf('u7')).length).toBe(40);
  });

  it.runIf(run)('takes JSON bodies: each checked as a whole, a refused one not holding back those committed with it', async () => {
    const good = (n: number) => JSON.stringify(Array.from({ length: 3 }, (_, i) => purchase(`js${n}-${i}`, `js${n}`, `i${i}`)));
    const bad = JSON.stringify([purchase('jsbad-0', 'jsbad', 'x'), { type: 'purchase', customer: 'jsbad' }]);
    const [a, b, c, d] = await Promise.allSettled([store.appendJson(good(1)), store.appendJson(bad), store.appendJson(good(2)), store.appendJson('{"type":')]);
    expect(a).toMatchObject({ status: 'fulfilled', value: { stored: 3 } });
    expect(c).toMatchObject({ status: 'fulfilled', value: { stored: 3 } });
    expect(b).toMatchObject({ status: 'rejected', reason: { code: 'ERR_AFFINITY_BAD_INPUT', message: 'events[1]: a purchase event needs an item' } });
    expect(d).toMatchObject({ status: 'rejected', reason: { code: 'ERR_AFFINITY_BAD_INPUT' } });
    expect(await store.eventsOf('jsbad')).toEqual([]);
    expect((await store.eventsOf('js2')).length).toBe(3);
    expect((await store.appendJson(JSON.stringify(purchase('js1-0', 'js1', 'i0')))).duplicates).toBe(1);
  });

  it.runIf(run)('pages through a time window in seq order', async () => {
    await store.append(Array.from({ length: 25 }, (_, i) => ({ type: 'click', customer: 'pager', item: `p${i}`, time: `2026-10-${String(1 + i).padStart(2, '0')}T00:00:00Z` })));
    const seen: string[] = [];
    for await (const page of store.pages({ from: Date.parse('2026-10-05T00:00:00Z'), to: Date.parse('2026-10-15T00:00:00Z'), pageSize: 3 })) {
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page.map((e) => e.item!));
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `p${i + 4}`));
  });

  it.runIf(run)('forgets a customer for good: events deleted, later appends of older events refused', async () => {
    await store.append([purchase('f1', 'dave', 'x'), purchase('f2', 'dave', 'y'), purchase('f3', 'erin', 'x')]);
    const forgot = await store.forget('dave', Date.parse('2026-11-02T00:00:00Z'));
    expect(forgot).toMatchObject({ key: 'dave', eventsDeleted: 2 });
    expect(await store.eventsOf('dave')).toEqual([]);
    expect((await store.eventsOf('erin')).length).toBe(1);
    expect((await store.tombstones()).get('dave')).toBe(Date.parse('2026-11-02T00:00:00Z'));
    const replay = await store.append([purchase('f9', 'dave', 'z')]);
    expect(replay).toMatchObject({ stored: 0, forgotten: 1 });
    const later = await store.append([purchase('f10', 'dave', 'z', '2026-11-03T00:00:00Z')]);
    expect(later).toMatchObject({ stored: 1 }); // a customer who comes back after the erasure is a new history
    expect(await store.lastSeq()).toBe(later.lastSeq);
  });

  it.runIf(run)('deletes events past the retention period', async () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    await store.append([{ type: 'view', customer: 'old', item: 'x', time: '2025-01-01T00:00:00Z' }, { type: 'view', customer: 'old', item: 'y', time: '2026-11-30T00:00:00Z' }]);
    const gone = await store.deleteOlderThan(30, now);
    expect(gone).toBeGreaterThanOrEqual(1);
    expect((await store.eventsOf('old')).map((e) => e.item)).toEqual(['y']);
    await expect(store.deleteOlderThan(0)).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });

  it.runIf(run)('keeps audit records by key, oldest first', async () => {
    await store.addRecord('receipts', 'dave', { eventsDeleted: 2 }, 1000);
    await store.addRecord('trainings', 'als', { ndcg: 0.3 }, 2000);
    await store.addRecord('receipts', 'dave', { eventsDeleted: 0 }, 3000);
    expect(await store.records('receipts', 'dave')).toEqual([
      { key: 'dave', at: 1000, record: { eventsDeleted: 2 } },
      { key: 'dave', at: 3000, record: { eventsDeleted: 0 } },
    ]);
    expect((await store.records('trainings')).map((r) => r.key)).toEqual(['als']);
  });

  it.runIf(run)('refuses appends with ERR_AFFINITY_BUSY past its queue, and drops none it accepted', async () => {
    const small = await EventStore.open(await spec(), { maxQueued: 100 });
    try {
      const settled = await Promise.allSettled(Array.from({ length: 10 }, (_, b) => small.append(Array.from({ length: 60 }, (_, i) => purchase(`b${b}-${i}`, `q${b}`, `i${i}`)))));
      const accepted = settled.filter((s) => s.status === 'fulfilled').length;
      const busy = settled.filter((s) => s.status === 'rejected' && (s.reason as { code: string }).code === 'ERR_AFFINITY_BUSY').length;
      expect(busy).toBeGreaterThan(0);
      expect(accepted + busy).toBe(10);
      expect(await small.count()).toBe(accepted * 60);
    } finally {
      await small.close();
    }
  });

  it.runIf(run)('stores pseudonyms, never the ids, under a key', async () => {
    const secret = await EventStore.open(await spec(), { pseudonymizeKey: 'a-long-enough-secret' });
    try {
      await secret.append([purchase('p1', 'zoe@example.com', 'x')]);
      await secret.appendJson(JSON.stringify(purchase('p2', 'zoe@example.com', 'y'))); // pseudonymized where it is parsed
      const rows = await secret.scan();
      expect(rows.length).toBe(2);
      expect(rows[0].customer).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[1].customer).toBe(rows[0].customer);
      expect(JSON.stringify(await secret.scan())).not.toContain('zoe');
      expect((await secret.eventsOf('zoe@example.com')).length).toBe(2);
      expect((await secret.forget('zoe@example.com')).eventsDeleted).toBe(2);
    } finally {
      await secret.close();
    }
    await expect(EventStore.open(await spec(), { pseudonymizeKey: 'short' })).rejects.toMatchObject({ code: 'ERR_AFFINITY_BAD_INPUT' });
  });

  it.runIf(run)('reopens with its data and schema (migrations are applied once)', async () => {
    const where = await spec();
    const a = await EventStore.open(where);
    await a.append([purchase('r1', 'rita', 'x')]);
    await a.close();
    await expect(a.append([purchase('r2', 'rita', 'y')])).rejects.toMatchObject({ code: 'ERR_AFFINITY_NOT_READY' });
    const b = await EventStore.open(where);
    expect((await b.eventsOf('rita')).length).toBe(1);
    await b.close();
  });
});

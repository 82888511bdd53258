// affinity ingest / forget / retrain against a real SQLite store.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ALS, Interactions, loadModel } from '../src/index.js';
import { EventStore } from '../src/events/store.js';
import { tempDir } from './stores.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'affinity.js');
const cli = (args: string[]) =>
  promisify(execFile)(process.execPath, [bin, ...args], { cwd: root }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('affinity ingest, forget, retrain', () => {
  const dir = tempDir('affinity-events-cli-');
  const store = `sqlite:${join(dir, 'events.db')}`;

  it('ingests JSON lines and CSV in batches, idempotently, and names a bad line', async () => {
    const lines = Array.from({ length: 250 }, (_, i) => JSON.stringify({ id: `j${i}`, type: 'purchase', customer: `c${i % 25}`, item: `p${(i % 25 + 3 * Math.floor(i / 25)) % 10}`, time: 1_795_000_000 + i * 3600 }));
    await writeFile(join(dir, 'events.jsonl'), lines.join('\n') + '\n');
    const first = await cli(['ingest', join(dir, 'events.jsonl'), '--store', store, '--batch', '100']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^250 events stored, 0 duplicates/);
    expect((await cli(['ingest', join(dir, 'events.jsonl'), '--store', store])).stdout).toMatch(/^0 events stored, 250 duplicates/);
    await writeFile(join(dir, 'events.csv'), 'id,type,customer,item,value,time\nk1,rating,c1,p1,4,2026-11-01T10:00:00Z\nk2,view,"c,2",p2,,1764500000\n');
    const csv = await cli(['ingest', join(dir, 'events.csv'), '--store', store]);
    expect(csv.stdout).toMatch(/^2 events stored/);
    await writeFile(join(dir, 'bad.jsonl'), `${lines[0]}\n{"type":"purchase","customer":"c1"}\n`);
    const bad = await cli(['ingest', join(dir, 'bad.jsonl'), '--store', store]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/line 2: events\[1\]: a purchase event needs an item \(ERR_AFFINITY_BAD_INPUT\)/);
    const s = await EventStore.open(store);
    expect(await s.count()).toBe(252);
    expect((await s.eventsOf('c,2'))[0]).toMatchObject({ type: 'view', item: 'p2', time: 1_764_500_000_000 });
    await s.close();
  });

  it('retrains a model file from the store, then forgets a customer in the store and the file', async () => {
    const file = join(dir, 'shop.affinity');
    const made = await cli(['retrain', '--store', store, '--model', file, '--kind', 'als', '--factors', '4', '--iterations', '3']);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout.trim().split('\n').at(-1)!)).toMatchObject({ swap: true });
    const model = (await loadModel(file)) as ALS;
    expect(model.users.has('c3')).toBe(true);
    expect(model.metadata?.data.storeSeq).toBeGreaterThan(0);
    const again = await cli(['retrain', '--store', store, '--model', file]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout.trim().split('\n').at(-1)!).ndcg.serving).not.toBeNull();

    const gone = await cli(['forget', 'c3', '--store', store, '--model', `shop=${file}`]);
    expect(gone.code, gone.stderr).toBe(0);
    const receipt = JSON.parse(gone.stdout);
    expect(receipt).toMatchObject({ customer: 'c3', eventsDeleted: 10, modelsUpdated: [{ name: 'shop', version: 2 }] });
    expect(((await loadModel(file)) as ALS).users.has('c3')).toBe(false);
    const s = await EventStore.open(store);
    expect(await s.eventsOf('c3')).toEqual([]);
    expect((await s.records('receipts', 'c3')).length).toBe(1);
    await s.close();
    expect((await cli(['forget', '--store', store])).code).toBe(1);
  });
});

// kill -9 during ingestion: every event answered 202 is in the store after a restart, and resending the
// whole stream stores each event exactly once (ids make it idempotent).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventStore } from '../src/events/store.js';
import { tempDir } from './stores.js';
import { startServe } from './serve-process.js';

const start = (store: string, port: number) => startServe(['--store', store], port, '/health/live');

describe('kill -9 during ingestion', () => {
  it('keeps every acknowledged event, and none twice', async () => {
    const dir = tempDir('affinity-ingest-kill-');
    const spec = `sqlite:${join(dir, 'events.db')}`;
    const port = 20000 + Math.floor(Math.random() * 20000);
    const batches = Array.from({ length: 120 }, (_, b) => Array.from({ length: 100 }, (_, i) => ({ id: `b${b}-e${i}`, type: 'view', customer: `c${(b * 7 + i) % 300}`, item: `p${i % 50}` })));
    const send = (url: string, batch: object[]) => fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(batch) });
    let { child, url } = await start(spec, port);
    try {
      const acknowledged = new Set<number>();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      let answered = 0;
      await Promise.all(
        batches.map((batch, b) =>
          send(url, batch).then(
            (r) => {
              if (r.status === 202) acknowledged.add(b);
              if (++answered === 10) child.kill('SIGKILL'); // with most of the stream still in flight
            },
            () => {},
          ),
        ),
      );
      await exited;
      expect(acknowledged.size).toBeGreaterThan(0);
      expect(acknowledged.size).toBeLessThan(batches.length);
      const store = await EventStore.open(spec);
      const ids = new Set((await store.scan({ limit: 1_000_000 })).map((e) => e.id));
      await store.close();
      for (const b of acknowledged) for (const e of batches[b]) expect(ids.has(e.id), e.id).toBe(true);
      ({ child, url } = await start(spec, port));
      let stored = 0;
      for (const [b, batch] of batches.entries()) {
        const r = await send(url, batch);
        expect(r.status).toBe(202);
        const counts = (await r.json()) as { stored: number; duplicates: number };
        if (acknowledged.has(b)) expect(counts).toMatchObject({ stored: 0, duplicates: 100 });
        stored += counts.stored;
      }
      child.kill('SIGKILL');
      const after = await EventStore.open(spec);
      expect(await after.count()).toBe(batches.length * 100);
      expect(stored + ids.size).toBe(batches.length * 100);
      await after.close();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

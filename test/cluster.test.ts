// `affinity serve --workers 2` as a real process tree: both workers answer on one port, a reload on SIGHUP
// (or the admin route) reaches every worker, a broken file reaches none, a killed worker is replaced, and
// SIGTERM drains them all.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALS, Interactions } from '../src/index.js';
import { freePort } from './postgres-server.js';
import { tempDir } from './stores.js';

const bin = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'affinity.js');
const TOKEN = 'cluster-test-token';

/**
 * One request on a connection of its own (no keep-alive), so the primary hands each to a worker in turn.
 * A 503 (a worker's load shedding while it warms up) is retried, as a client honouring Retry-After would.
 */
async function get(url: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  for (let attempt = 0; ; attempt++) {
    // A connection the primary hands to a worker at the instant it is killed is lost: retried after 3 s.
    const r = await Promise.race([once(url, path, init), new Promise<null>((done) => setTimeout(() => done(null), 3000).unref())]).catch(() => null);
    if (r && (r.status !== 503 || attempt === 50)) return r;
    if (!r && attempt === 5) throw new Error(`${path}: no answer in 5 attempts`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

function once(url: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: init.method ?? 'GET', agent: false, headers: { connection: 'close', ...init.headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, test: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await test().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The pids whose parent is `pid`, from /proc (no ps needed). */
function children(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      const stat = (() => {
        try {
          return readFileSync(`/proc/${d}/stat`, 'utf8');
        } catch {
          return '';
        }
      })();
      // Fields after the command name, which is in parentheses and may hold spaces: state, ppid, ...
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    })
    .map(Number);
}

async function model(seed: number): Promise<ALS> {
  const users = Array.from({ length: 200 }, (_, i) => `u${i % 40}`);
  const items = users.map((_, i) => `i${(i * seed) % 30}`);
  return new ALS({ factors: 4, iterations: 2, seed }).fit(await Interactions.fromArrays({ users, items }));
}

describe('affinity serve --workers 2', () => {
  it('serves from two processes, reloads all or none, restarts a dead worker and drains on SIGTERM', async () => {
    const dir = await tempDir('affinity-cluster-');
    const file = join(dir, 'als.affinity');
    const initial = await model(7);
    await initial.save(file);
    const port = await freePort();
    const primary = spawn(process.execPath, [bin, 'serve', '--workers', '2', '--model', `recs=${file}`, '--port', String(port), '--host', '127.0.0.1'], {
      env: { ...process.env, LOG_LEVEL: 'warn', AFFINITY_ADMIN_TOKEN: TOKEN },
    });
    let log = '';
    primary.stdout!.on('data', (c) => (log += c));
    primary.stderr!.on('data', (c) => (log += c));
    const exited = new Promise<number | null>((r) => primary.on('exit', (code) => r(code)));
    const url = `http://127.0.0.1:${port}`;
    try {
      await until('two workers', async () => /2 workers serving/.test(log));
      // Which model each answer came from: its training time (versions count reloads per process).
      const served = async (n = 12) => {
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) {
          const r = await get(url, '/v1/models');
          if (r.status !== 200) throw new Error(`GET /v1/models: ${r.status} ${JSON.stringify(r.body)}`);
          seen.add(r.body.models[0].metadata.trainedAt);
        }
        return seen;
      };
      expect(await served()).toEqual(new Set([initial.metadata!.trainedAt]));

      // A new file, then SIGHUP to the primary: every worker serves it, none stays behind.
      const second = await model(11);
      await second.save(file);
      primary.kill('SIGHUP');
      await until('the reload', async () => (await served(4)).has(second.metadata!.trainedAt));
      expect(await served()).toEqual(new Set([second.metadata!.trainedAt]));

      // A broken file (replaced by rename, as a deploy would): refused everywhere, version 2 keeps serving.
      const broken = join(dir, 'broken.tmp');
      await writeFile(broken, Buffer.from('AFFINITY not really a model'));
      await rename(broken, file);
      primary.kill('SIGHUP');
      await until('the refusal', async () => /reload refused/.test(log));
      expect(await served()).toEqual(new Set([second.metadata!.trainedAt]));
      const answer = await fetch(`${url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'u1', k: 3 }) });
      expect(answer.status).toBe(200);

      // The admin route reloads through the primary too; with the broken file it is an error, and nothing changes.
      const refused = await fetch(`${url}/v1/models/recs/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(refused.status).toBe(422);
      expect(((await refused.json()) as { code: string }).code).toBe('ERR_AFFINITY_CORRUPT_FILE');
      const third = await model(13);
      await third.save(file);
      const reloaded = await fetch(`${url}/v1/models/recs/reload`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(reloaded.status).toBe(200);
      expect(await served()).toEqual(new Set([third.metadata!.trainedAt]));

      // kill -9 one worker: the other keeps answering, and a new one takes its place.
      const [victim] = children(primary.pid!);
      process.kill(victim, 'SIGKILL');
      for (let i = 0; i < 10; i++) expect((await get(url, '/health/live')).status).toBe(200);
      await until('a replacement worker', async () => {
        const now = children(primary.pid!);
        return now.length === 2 && !now.includes(victim);
      });
      await until('the new worker serving', async () => /worker restarted and serving/.test(log));
      expect(await served()).toEqual(new Set([third.metadata!.trainedAt]));

      primary.kill('SIGTERM');
      expect(await exited).toBe(0);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- server output ---\n${log.slice(-3000)}`);
    } finally {
      primary.kill('SIGKILL');
    }
  }, 90_000);
});

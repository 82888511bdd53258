// The affinity command, end to end, as separate processes (dist/ is built by npm install).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'affinity.js');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-cli-'));
  const lines = ['customer,product,qty'];
  for (let u = 0; u < 80; u++) for (let i = 0; i < 30; i++) if ((u * 5 + i * 7) % 9 < 3) lines.push(`c${u},p${i},${1 + ((u + i) % 3)}`);
  await writeFile(join(dir, 'orders.csv'), lines.join('\n'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('affinity CLI', () => {
  it('prints help for every command', async () => {
    const { stdout } = await run(process.execPath, [bin, '--help']);
    for (const c of ['train', 'eval', 'recommend', 'serve', 'demo', 'similarity', 'generate']) {
      expect(stdout).toContain(c);
      expect((await run(process.execPath, [bin, c, '--help'])).stdout).toMatch(/usage: affinity/);
    }
    await expect(run(process.execPath, [bin, 'nope'])).rejects.toMatchObject({ code: 2 });
  });

  it('trains, recommends from the file, and evaluates', async () => {
    const model = join(dir, 'm.affinity');
    const train = await run(process.execPath, [bin, 'train', '--data', join(dir, 'orders.csv'), '--columns', 'customer,product,qty', '--model', 'als', '--factors', '8', '--iterations', '3', '--out', model]);
    expect(train.stdout).toMatch(/trained als/);
    expect(train.stderr).toMatch(/iteration 3: loss/);
    const rec = await run(process.execPath, [bin, 'recommend', '--model', model, '--user', 'c1', '--k', '3']);
    expect(JSON.parse(rec.stdout).items).toHaveLength(3);
    const ev = await run(process.execPath, [bin, 'eval', '--data', join(dir, 'orders.csv'), '--columns', 'customer,product,qty', '--model', 'itemknn']);
    expect(ev.stdout).toMatch(/ndcg\s+0\.\d+/);
    await expect(run(process.execPath, [bin, 'train', '--data', join(dir, 'missing.csv'), '--model', 'als', '--out', model])).rejects.toMatchObject({
      stderr: expect.stringMatching(/ERR_AFFINITY_IO/),
    });
  });

  it('serve: answers, reloads on SIGHUP, drains and exits on SIGTERM', async () => {
    const model = join(dir, 's.affinity');
    await run(process.execPath, [bin, 'train', '--data', join(dir, 'orders.csv'), '--columns', 'customer,product', '--model', 'itemknn', '--out', model]);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [bin, 'serve', '--model', `shop=${model}`, '--port', String(port), '--host', '127.0.0.1'], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    const url = `http://127.0.0.1:${port}`;
    try {
      for (let i = 0; i < 100; i++) {
        const ok = await fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const rec = await fetch(`${url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'c2', k: 2 }) });
      expect(rec.status).toBe(200);
      child.kill('SIGHUP');
      let version = 1;
      for (let i = 0; i < 50 && version < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        version = ((await (await fetch(`${url}/v1/models`)).json()) as { models: { version: number }[] }).models[0].version;
      }
      expect(version).toBe(2);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, readFile, writeFile, readdir } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALS, ItemKNN, UserKNN, loadModel, loadRecommender } from '../src/index.js';
import { randomInteractions } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'affinity-models-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('model files', () => {
  it('save -> load is bit-exact for ALS (implicit and explicit), ItemKNN and UserKNN', async () => {
    const data = await randomInteractions({ users: 60, items: 40, density: 0.15, seed: 3 });
    const models = [
      await new ALS({ factors: 8, iterations: 2 }).fit(data),
      await new ALS({ factors: 8, iterations: 2, feedback: 'explicit' }).fit(data),
      await new ItemKNN({ k: 10, measure: 'jaccard' }).fit(data),
      await new UserKNN({ k: 10 }).fit(data),
    ];
    for (const [n, m] of models.entries()) {
      const path = join(dir, `m${n}.affinity`);
      await m.save(path);
      const back = await loadRecommender(path);
      expect(back.constructor).toBe(m.constructor);
      for (let u = 0; u < 60; u += 7) expect(back.recommend(u, { k: 10 })).toEqual(m.recommend(u, { k: 10 }));
    }
    for (const [n, m] of [models[0], models[1]].entries()) {
      const back = (await loadModel(join(dir, `m${n}.affinity`))) as ALS;
      const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      expect(bytes(back.userFactors)).toEqual(bytes((m as ALS).userFactors));
      expect(back.options).toEqual((m as ALS).options);
      expect(back.recommendFor({ items: [1, 2, 3] })).toEqual((m as ALS).recommendFor({ items: [1, 2, 3] }));
    }
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('rejects truncated, corrupted and crafted files with a code, never a crash', async () => {
    const data = await randomInteractions({ users: 30, items: 20, density: 0.2, seed: 5 });
    const path = join(dir, 'good.affinity');
    await (await new ItemKNN({ k: 5 }).fit(data)).save(path);
    const good = await readFile(path);
    const expectCorrupt = async (bytes: Buffer, why: RegExp) => {
      const p = join(dir, 'bad.affinity');
      await writeFile(p, bytes);
      await expect(loadModel(p)).rejects.toMatchObject({ code: 'ERR_AFFINITY_CORRUPT_FILE', message: expect.stringMatching(why) });
    };
    await expectCorrupt(good.subarray(0, good.length - 100), /end marker|checksum|header/);
    await expectCorrupt(good.subarray(0, 40), /too short/);
    const flipped = Buffer.from(good);
    flipped[200] ^= 0xff;
    await expectCorrupt(flipped, /checksum/);
    const magic = Buffer.from(good);
    magic.write('NOTAFFIN', 0, 'latin1');
    await expectCorrupt(magic, /magic/);
    const version = Buffer.from(good);
    version.writeUInt32LE(99, 8);
    await expectCorrupt(version, /version 99/);
    // A valid checksum over a similarity index that points outside the matrix.
    const crafted = Buffer.from(good);
    const header = JSON.parse(crafted.subarray(Number(crafted.readBigUInt64LE(16)), crafted.length - 16).toString());
    crafted.writeInt32LE(1_000_000, header.arrays['similarity.indices'].offset);
    crafted.writeUInt32LE(crc32(crafted.subarray(0, crafted.length - 16)) >>> 0, crafted.length - 16);
    await expectCorrupt(crafted, /similarity.*out of range/);
    await expect(loadModel(join(dir, 'missing.affinity'))).rejects.toMatchObject({ code: 'ERR_AFFINITY_IO' });
  });

  it('a model read with mmap: false survives its file being rewritten in place', async () => {
    const data = await randomInteractions({ users: 20, items: 10, density: 0.3, seed: 8 });
    const path = join(dir, 'inplace.affinity');
    await (await new ALS({ factors: 4, iterations: 1 }).fit(data)).save(path);
    const model = await loadRecommender(path, { mmap: false });
    const before = model.recommend(0, { k: 3 });
    await writeFile(path, 'x'); // truncates the same inode, as `cp` would
    expect(model.recommend(0, { k: 3 })).toEqual(before);
  });

  it('a failed save leaves the existing file intact', async () => {
    const data = await randomInteractions({ users: 20, items: 10, density: 0.3, seed: 7 });
    const m = await new ALS({ factors: 4, iterations: 1 }).fit(data);
    await expect(m.save(join(dir, 'no-such-dir', 'x.affinity'))).rejects.toMatchObject({ code: 'ERR_AFFINITY_IO' });
    const path = join(dir, 'keep.affinity');
    await m.save(path);
    const before = await readFile(path);
    await m.save(path);
    expect(await readFile(path)).toEqual(before);
  });
});

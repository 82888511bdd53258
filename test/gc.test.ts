// Native results are external ArrayBuffers owned by the addon: they must be freed once JS drops them.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('memory', () => {
  it('frees native result buffers after garbage collection', () => {
    const script = `
      const m = await import(${JSON.stringify(root + 'dist/src/index.js')});
      const { generate } = await import(${JSON.stringify(root + 'dist/src/data/synthetic.js')});
      const data = await generate({ users: 3000, items: 2000, interactions: 150000, seed: 4 });
      const rss = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().rss; };
      // Warm up allocators, then measure many rounds whose results are dropped.
      for (let i = 0; i < 3; i++) await m.similarity(data, { k: 500 });
      const before = rss();
      for (let i = 0; i < 40; i++) await m.similarity(data, { k: 500 });  // ~8 MB of results each
      await new Promise((r) => setTimeout(r, 50));
      console.log(JSON.stringify({ grewMiB: (rss() - before) / 2 ** 20 }));`;
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
    const { grewMiB } = JSON.parse(out.trim().split('\n').pop()!);
    // 40 rounds x ~8 MB would be ~320 MB if leaked.
    expect(grewMiB).toBeLessThan(60);
  });
});

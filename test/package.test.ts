// What `npm pack` ships: the library, its sources to build from, the licence; no benchmarks, tests or
// fuzz targets. And what it depends on agrees with the Node versions it declares.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the package', () => {
  it('ships the licence, the build sources and dist, and no benches, tests or fuzz targets', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, timeout: 60_000 });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    for (const needed of ['LICENSE', 'README.md', 'package.json', 'binding.gyp', 'sources.gypi', 'bin/affinity.js', 'dist/src/index.js', 'dist/src/server/index.js', 'dist/dashboard/app.js', 'dist/dashboard/app.css', 'native/core/als.cc', 'bindings/addon.cc'])
      expect(files, needed).toContain(needed);
    const unwanted = files.filter((f) => /^(bench|test|scripts|dashboard)\/|^dist\/(bench|test)\/|^native\/(tests|fuzz)\//.test(f));
    expect(unwanted).toEqual([]);
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).license).toBe('MIT');
  }, 90_000);

  it('no installed dependency asks for a newer Node than the package declares (no EBADENGINE)', async () => {
    const semver = (await import('semver')).default;
    const declared = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node as string;
    const oldest = semver.minVersion(declared)!.version;
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string }; dev?: boolean }> };
    const wanting = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !p.dev && p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path} wants node ${p.engines!.node}`);
    expect(wanting).toEqual([]);
  });

  it("a strict consumer (skipLibCheck false, exactOptionalPropertyTypes) type-checks both entry points, without the schema library's declarations", async () => {
    // @ts-expect-error: a plain .mjs helper shared with bench/typecheck.ts, without declarations
    const { consumerProject, tscPath } = await import('../scripts/consumer-project.mjs');
    const dir: string = await consumerProject();
    try {
      const run = (...args: string[]) => promisify(execFile)(process.execPath, [tscPath, '-p', dir, ...args], { encoding: 'utf8' });
      await run().catch((err: { stdout?: string }) => expect.fail(`the consumer does not type-check:\n${err.stdout}`));
      const files = (await run('--listFilesOnly')).stdout.trim().split('\n');
      expect(files.some((f) => f.includes('/dist/src/server/plugin.d.ts'))).toBe(true);
      expect(files.filter((f) => /node_modules\/(typebox|@sinclair|@fastify\/type-provider-typebox)\//.test(f))).toEqual([]);
    } finally {
      await import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true }));
    }
  }, 60_000);
});

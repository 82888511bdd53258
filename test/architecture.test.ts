// The import graph keeps the layering: bindings import nothing of ours; src/ imports no test or bench code;
// inside src/ a module imports only from its own layer or below, and no modules import each other in a cycle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Layers of src/, bottom first. A module may import its own layer or any layer below. */
const SRC_LAYERS: Record<string, number> = { core: 0, io: 1, data: 2, events: 2.5, models: 3, eval: 4, analytics: 4, insights: 4.5, files: 5, 'index.ts': 6, server: 7, cli: 8 };

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Our modules a file imports (static, dynamic and type imports; packages and node: builtins left out). */
export function importsOf(file: string, source = readFileSync(join(root, file), 'utf8')): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm))
    out.push(normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts'));
  return out;
}

function layerOf(file: string): number | undefined {
  return SRC_LAYERS[file.split('/')[1]];
}

/** Every import that breaks a rule, as "from -> to: why". */
function violations(graph: Map<string, string[]>): string[] {
  const bad: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const area = from.split('/')[0];
      const target = to.split('/')[0];
      if (area === 'bindings' && target !== 'bindings') bad.push(`${from} -> ${to}: bindings/ is the bottom layer`);
      if (area === 'src' && (target === 'bench' || target === 'test')) bad.push(`${from} -> ${to}: library code imports no bench or test code`);
      if (area === 'test' && target === 'bench') bad.push(`${from} -> ${to}: tests do not depend on benchmarks`);
      if (area === 'src' && target === 'bindings' && from !== 'src/core/native.ts') bad.push(`${from} -> ${to}: src/ reaches the addon through src/core/native.ts`);
      if (area === 'src' && target === 'src') {
        const [a, b] = [layerOf(from), layerOf(to)];
        if (a === undefined || b === undefined) bad.push(`${from} -> ${to}: not in a known layer of src/`);
        else if (b > a) bad.push(`${from} -> ${to}: upward import (layer ${a} -> ${b})`);
      }
    }
  }
  return bad;
}

/** The cycles among modules, each as its path. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

function graphOf(dirs: string[]): Map<string, string[]> {
  return new Map(
    dirs
      .flatMap(files)
      .filter((f) => f !== 'test/architecture.test.ts') // its planted examples are strings, not imports
      .map((f) => [f, importsOf(f)]),
  );
}

describe('architecture', () => {
  const graph = graphOf(['src', 'bindings', 'bench', 'test']);

  it('every import resolves to a file of the repository', () => {
    // Tests hold code in strings (child processes), so only the shipped code and benchmarks are resolved.
    const shipped = [...graph].filter(([f]) => !f.startsWith('test/'));
    const missing = shipped.flatMap(([from, to]) => to.filter((t) => !statSync(join(root, t), { throwIfNoEntry: false })).map((t) => `${from} -> ${t}`));
    expect(missing).toEqual([]);
  });

  it('no upward import between layers', () => {
    expect(violations(graph)).toEqual([]);
  });

  it('no import cycles in src/ and bindings/', () => {
    const lib = new Map([...graph].filter(([f]) => f.startsWith('src/') || f.startsWith('bindings/')));
    expect(cycles(lib).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('the checks catch what they guard against', () => {
    // A planted upward import, a planted cycle and a planted bench import must each be reported.
    const planted = new Map(graph);
    planted.set('src/core/jobs.ts', [...(graph.get('src/core/jobs.ts') ?? []), 'src/models/als.ts']);
    planted.set('src/data/ids.ts', [...(graph.get('src/data/ids.ts') ?? []), 'bench/als.ts']);
    planted.set('bindings/native.ts', ['src/core/errors.ts']);
    const bad = violations(planted);
    expect(bad).toContain('src/core/jobs.ts -> src/models/als.ts: upward import (layer 0 -> 3)');
    expect(bad).toContain('src/data/ids.ts -> bench/als.ts: library code imports no bench or test code');
    expect(bad).toContain('bindings/native.ts -> src/core/errors.ts: bindings/ is the bottom layer');
    const loop = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    expect(cycles(loop)).toEqual([['a', 'b', 'c', 'a']]);
    expect(importsOf('src/x/y.ts', `import a from './a.js';\nimport type { B } from '../b.js';\nconst c = await import('../../c.js');\nimport 'node:fs';`)).toEqual([
      'src/x/a.ts',
      'src/b.ts',
      'c.ts',
    ]);
  });
});

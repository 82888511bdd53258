// Trees as people read them: nested JSON with feature names, thresholds and category names, and a text
// rendering of the top levels ("if recency <= 3 ...") for the marketer who wants the rules.
import type { NativeForest } from '../core/native.js';
import type { FeatureSchema } from '../data/featuretable.js';

export interface TreeLeaf {
  samples: number;
  impurity: number;
  /** Class probabilities (classification), the mean target (regression), the mean outcome per arm (uplift). */
  value: number[];
}

export interface TreeSplit extends TreeLeaf {
  feature: string;
  /** Numeric splits: values <= threshold go left. */
  threshold?: number;
  /** Categorical splits: these categories go left, the others right. */
  categories?: string[];
  /** Where missing values (and categories this node never saw) go. */
  missing: 'left' | 'right';
  left: TreeNode;
  right: TreeNode;
  /** Set where maxDepth cut the rendering: the subtree below is not shown. */
  truncated?: boolean;
}

export type TreeNode = TreeLeaf | TreeSplit;

const DEFAULT_LEFT = 1;
const CATEGORICAL = 2;

export function featureNames(schema: FeatureSchema | undefined, dims: number): string[] {
  return schema?.features.map((c) => c.name) ?? Array.from({ length: dims }, (_, d) => `x${d}`);
}

function leftCategories(f: NativeForest, g: number, schema: FeatureSchema | undefined, feature: number): string[] {
  const names = schema?.features[feature]?.categories;
  const out: string[] = [];
  const base = f.catOffset[g];
  for (let c = 0; c < 255; c++) if ((f.catBits[base + (c >> 5)] >>> (c & 31)) & 1) out.push(names?.[c] ?? String(c));
  return out;
}

/** Tree `tree` of a forest as nested nodes, down to maxDepth (the root is depth 0). */
export function treeToJSON(f: NativeForest, tree: number, schema: FeatureSchema | undefined, maxDepth = Infinity, names = featureNames(schema, f.features)): TreeNode {
  const base = f.treeOffsets[tree];
  const k = f.outputs;
  const node = (i: number, depth: number): TreeNode => {
    const g = base + i;
    const leaf: TreeLeaf = { samples: f.samples[g], impurity: f.impurity[g], value: Array.from(f.value.subarray(g * k, (g + 1) * k)) };
    const feature = f.feature[g];
    if (feature < 0) return leaf;
    const split: Omit<TreeSplit, 'left' | 'right'> = {
      feature: names[feature],
      ...((f.flags[g] & CATEGORICAL) !== 0 ? { categories: leftCategories(f, g, schema, feature) } : { threshold: f.threshold[g] }),
      missing: (f.flags[g] & DEFAULT_LEFT) !== 0 ? 'left' : 'right',
      ...leaf,
    };
    if (depth >= maxDepth) return { ...split, left: { ...leaf }, right: { ...leaf }, truncated: true } as TreeSplit;
    return { ...split, left: node(f.left[g], depth + 1), right: node(f.right[g], depth + 1) } as TreeSplit;
  };
  return node(0, 0);
}

/** The top `depth` levels of a tree as indented rules; `label` renders a node's value. */
export function describeTree(root: TreeNode, label: (value: number[]) => string, depth: number): string {
  const lines: string[] = [];
  const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));
  const walk = (n: TreeNode, indent: string, level: number) => {
    const tail = `${label(n.value)}  (n=${fmt(n.samples)})`;
    if (!('feature' in n) || level >= depth || n.truncated) {
      lines.push(`${indent}→ ${tail}`);
      return;
    }
    const test = n.categories !== undefined ? `${n.feature} in {${n.categories.join(', ')}}` : `${n.feature} <= ${fmt(n.threshold!)}`;
    const missing = (side: 'left' | 'right') => (n.missing === side ? ' or missing' : '');
    lines.push(`${indent}if ${test}${missing('left')}:`);
    walk(n.left, indent + '  ', level + 1);
    lines.push(`${indent}else${missing('right')}:`);
    walk(n.right, indent + '  ', level + 1);
  };
  walk(root, '', 0);
  return lines.join('\n');
}

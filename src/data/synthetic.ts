// Synthetic data, seeded: power-law interactions (Zipf item popularity, lognormal user activity) for
// benchmarks and tests, and the demo shop (named products, a year of purchases with prices) behind npm start.
import { Interactions } from './interactions.js';
import { AliasTable, Random } from '../core/random.js';
import { Transactions } from './transactions.js';

export interface GeneratorSpec {
  users: number;
  items: number;
  /** Target number of distinct (user, item) pairs; oversample x this many draws are merged. */
  interactions: number;
  seed?: number;
  /** Zipf exponent of item popularity (default 0.9). */
  zipf?: number;
  /** Draws per target interaction before merging duplicates (default 1.15). */
  oversample?: number;
}

export const PRESETS = {
  small: { users: 10_000, items: 5_000, interactions: 460_000 },
  medium: { users: 100_000, items: 50_000, interactions: 5_070_000 },
  lastfm: { users: 360_000, items: 160_000, interactions: 18_300_000 },
} satisfies Record<string, GeneratorSpec>;
export type Preset = keyof typeof PRESETS;

/** Draws the (user, item) pairs of a spec as dense indices, duplicates included. */
export function drawInteractions(spec: GeneratorSpec): { rows: Int32Array; cols: Int32Array } {
  const rng = new Random(spec.seed ?? 42);
  const draws = Math.round(spec.interactions * (spec.oversample ?? 1.15));
  // Item popularity: Zipf over ranks, ranks assigned to item ids by a random permutation.
  const zipf = spec.zipf ?? 0.9;
  const weights = new Float64Array(spec.items);
  for (let r = 0; r < spec.items; r++) weights[r] = 1 / Math.pow(r + 1, zipf);
  const itemOfRank = rng.shuffle(Int32Array.from({ length: spec.items }, (_, i) => i));
  const items = new AliasTable(weights);
  // User activity: lognormal(0, 1) shares of all draws, rounded stochastically, at least one each.
  const activity = new Float64Array(spec.users);
  let total = 0;
  for (let u = 0; u < spec.users; u++) total += activity[u] = Math.exp(rng.normal());
  const counts = new Int32Array(spec.users);
  let n = 0;
  for (let u = 0; u < spec.users; u++) {
    const x = (activity[u] / total) * draws;
    counts[u] = Math.min(spec.items, Math.max(1, Math.floor(x) + (rng.next() < x - Math.floor(x) ? 1 : 0)));
    n += counts[u];
  }
  const rows = new Int32Array(n);
  const cols = new Int32Array(n);
  let p = 0;
  for (let u = 0; u < spec.users; u++) {
    for (let c = 0; c < counts[u]; c++, p++) {
      rows[p] = u;
      cols[p] = itemOfRank[items.sample(rng)];
    }
  }
  return { rows, cols };
}

/** Generates the interactions of a preset or spec; every value is 1 (repeated draws merge with max). */
export async function generate(spec: GeneratorSpec | Preset, seed?: number): Promise<Interactions> {
  const s: GeneratorSpec = typeof spec === 'string' ? { ...PRESETS[spec], seed } : { ...spec, seed: seed ?? spec.seed };
  const { rows, cols } = drawInteractions(s);
  return Interactions.fromIndices({ rows, cols, shape: [s.users, s.items] }, { duplicates: 'max' });
}

const ADJECTIVES = ['Organic', 'Classic', 'Smoked', 'Spiced', 'Vintage', 'Rustic', 'Golden', 'Wild', 'Fresh', 'Dark', 'Sparkling', 'Handmade'];
const CATEGORIES: Record<string, string[]> = {
  tea: ['Green Tea', 'Black Tea', 'Chai', 'Rooibos', 'Oolong', 'Matcha'],
  coffee: ['Espresso Beans', 'Filter Coffee', 'Cold Brew', 'Decaf Beans'],
  bakery: ['Sourdough', 'Croissant', 'Rye Bread', 'Scone', 'Brioche'],
  kitchen: ['Teapot', 'Mug', 'French Press', 'Grinder', 'Kettle', 'Tea Towel'],
  pantry: ['Honey', 'Jam', 'Olive Oil', 'Sea Salt', 'Granola', 'Chocolate'],
};

export interface DemoShop {
  products: { id: string; name: string; category: string; price: number }[];
  data: Interactions;
  /** The same purchases as lines with prices, and baskets (one per customer and day). */
  transactions: Transactions;
}

export async function demoShop(seed = 7, customers = 2000, purchases = 30_000): Promise<DemoShop> {
  const rng = new Random(seed);
  const products: DemoShop['products'] = [];
  for (const [category, nouns] of Object.entries(CATEGORIES))
    for (const noun of nouns)
      for (const adjective of ADJECTIVES.slice(0, 8)) products.push({ id: `P${String(products.length + 1).padStart(4, '0')}`, name: `${adjective} ${noun}`, category, price: Math.round(200 + rng.next() * 2800) / 100 });
  const categories = Object.keys(CATEGORIES);
  // Each customer leans to one or two categories; products are Zipf-popular within the shop.
  const weights = Float64Array.from(products, (_, r) => 1 / Math.pow(r + 1, 0.8));
  rng.shuffle(weights);
  const byCategory = new Map(categories.map((c) => [c, products.flatMap((p, i) => (p.category === c ? [i] : []))]));
  const tables = new Map(categories.map((c) => [c, new AliasTable(Float64Array.from(byCategory.get(c)!, (i) => weights[i]))]));
  const anyProduct = new AliasTable(weights);
  const users: string[] = [];
  const items: string[] = [];
  const times: number[] = [];
  const start = Date.UTC(2025, 0, 1) / 1000;
  const taste = Array.from({ length: customers }, () => [categories[rng.int(categories.length)], categories[rng.int(categories.length)]]);
  const activity = new AliasTable(Float64Array.from({ length: customers }, () => Math.exp(rng.normal())));
  for (let n = 0; n < purchases; n++) {
    const c = activity.sample(rng);
    const r = rng.next();
    const product = r < 0.75 ? byCategory.get(taste[c][r < 0.5 ? 0 : 1])![tables.get(taste[c][r < 0.5 ? 0 : 1])!.sample(rng)] : anyProduct.sample(rng);
    users.push(`C${String(c + 1).padStart(5, '0')}`);
    items.push(products[product].id);
    times.push(start + Math.floor(rng.next() * 365 * 86400));
  }
  const data = await Interactions.fromArrays({ users, items, timestamps: times });
  const price = new Map(products.map((p) => [p.id, p.price]));
  const transactions = Transactions.fromArrays({
    customers: users,
    items,
    timestamps: times,
    amounts: items.map((i) => price.get(i)!),
    baskets: users.map((u, n) => `${u}/${Math.floor(times[n] / 86400)}`),
  });
  return { products, data, transactions };
}

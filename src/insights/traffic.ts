// What the overview page charts of live traffic: per route (or engine operation) the requests, errors and
// p50/p99 latency, from the server's own Prometheus histograms (the same counters as /metrics). The page
// turns two readings into requests per second.
import { bucketQuantile } from './curves.js';

/** A histogram series as the server's metrics keep it (see server/metrics.ts). */
export interface LatencySeries {
  labels: Record<string, string>;
  counts: number[];
  over: number;
  sum: number;
  count: number;
}

export interface LatencyRow {
  key: string;
  count: number;
  /** Answers with a 5xx status (routes only). */
  errors: number;
  /** Seconds, interpolated within the histogram's buckets; null before any observation. */
  p50: number | null;
  p99: number | null;
  seconds: number;
}

/** Series merged by one label (route, or op), busiest first. */
export function latencyBy(series: readonly LatencySeries[], bounds: readonly number[], label: string): LatencyRow[] {
  const merged = new Map<string, { counts: number[]; errors: number; count: number; sum: number }>();
  for (const s of series) {
    const key = s.labels[label] ?? 'unknown';
    let m = merged.get(key);
    if (!m) merged.set(key, (m = { counts: new Array<number>(bounds.length + 1).fill(0), errors: 0, count: 0, sum: 0 }));
    s.counts.forEach((c, i) => (m!.counts[i] += c));
    m.counts[bounds.length] += s.over;
    m.count += s.count;
    m.sum += s.sum;
    if ((s.labels.status ?? '').startsWith('5')) m.errors += s.count;
  }
  // The bucket past the last bound answers as the last bound: an open bucket has no width to interpolate in.
  const open = [...bounds, bounds[bounds.length - 1]];
  return [...merged.entries()]
    .map(([key, m]) => ({ key, count: m.count, errors: m.errors, p50: finiteOrNull(bucketQuantile(open, m.counts, 0.5)), p99: finiteOrNull(bucketQuantile(open, m.counts, 0.99)), seconds: m.sum }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

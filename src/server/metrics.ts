// A small Prometheus registry: histograms and gauges with labels, rendered in the text format.
export const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Record<string, string>;
const key = (l: Labels) => Object.entries(l).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',');

/** One labelled series of a histogram: counts per bucket of BUCKETS, and above the last. */
export interface HistogramSeries {
  labels: Labels;
  counts: number[];
  over: number;
  sum: number;
  count: number;
}

class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string) {}
  observe(labels: Labels, seconds: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => seconds <= b && s!.counts[i]++);
    s.sum += seconds;
    s.count++;
  }
  /** Each series' labels and per-bucket counts (not cumulative; past the last bound in `over`), for the dashboard. */
  snapshot(): HistogramSeries[] {
    return [...this.series.entries()].map(([k, s]) => ({
      labels: Object.fromEntries([...k.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])),
      counts: s.counts.map((c, i) => c - (i > 0 ? s.counts[i - 1] : 0)),
      over: s.count - (s.counts.at(-1) ?? 0),
      sum: s.sum,
      count: s.count,
    }));
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? ',' : '';
      BUCKETS.forEach((b, i) => lines.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`, `${this.name}_sum{${k}} ${s.sum}`, `${this.name}_count{${k}} ${s.count}`);
    }
    return lines.join('\n');
  }
}

class Gauge {
  private readonly series = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}
  set(labels: Labels, value: number): void {
    this.series.set(key(labels), value);
  }
  add(labels: Labels, delta: number): void {
    const k = key(labels);
    this.series.set(k, (this.series.get(k) ?? 0) + delta);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [k, v] of this.series) lines.push(`${this.name}{${k}} ${v}`);
    return lines.join('\n');
  }
}

export class Metrics {
  readonly http = new Histogram('affinity_http_request_duration_seconds', 'HTTP request duration by route, method and status');
  readonly engine = new Histogram('affinity_engine_duration_seconds', 'Time spent in the engine by operation');
  readonly modelVersion = new Gauge('affinity_model_version', 'Version of each served model (counts reloads)');
  readonly reloadFailures = new Gauge('affinity_model_reload_failures_total', 'Failed reloads per model');
  readonly inFlight = new Gauge('affinity_engine_in_flight', 'Engine calls running now');
  readonly info = new Gauge('affinity_build_info', 'SIMD level and compute threads');
  readonly catalogMissing = new Gauge('affinity_catalog_missing_items_total', 'Items answered without attributes because the catalogue lacks them', 'counter');
  readonly catalogVersion = new Gauge('affinity_catalog_version', 'Version of the served catalogue (counts reloads)');
  /** The last reloads, newest last (at most 50): the dashboard's reload history. */
  readonly reloads: { at: string; model: string; ok: boolean; version?: number; error?: string }[] = [];

  recordReload(e: { name: string; ok: boolean; version?: number; error?: Error }): void {
    this.reloads.push({ at: new Date().toISOString(), model: e.name, ok: e.ok, ...(e.version !== undefined ? { version: e.version } : {}), ...(e.error ? { error: e.error.message } : {}) });
    if (this.reloads.length > 50) this.reloads.shift();
  }

  render(): string {
    return [this.http, this.engine, this.modelVersion, this.reloadFailures, this.inFlight, this.info, this.catalogMissing, this.catalogVersion].map((m) => m.render()).join('\n') + '\n';
  }
}

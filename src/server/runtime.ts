// Process and Node runtime metrics for /metrics, named as prom-client's defaults so existing dashboards
// read them: CPU, memory, file descriptors, event-loop delay and utilization, GC pauses, active resources.
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';

const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];

export class RuntimeMetrics {
  private readonly delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly gc = new Map<string, { counts: number[]; sum: number; count: number }>();
  private readonly observer: PerformanceObserver;
  private lastUtilization: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly started = Math.round(Date.now() / 1000 - process.uptime());

  constructor() {
    this.delay.enable();
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
        let s = this.gc.get(kind);
        if (!s) this.gc.set(kind, (s = { counts: GC_BUCKETS.map(() => 0), sum: 0, count: 0 }));
        const seconds = entry.duration / 1000;
        GC_BUCKETS.forEach((b, i) => seconds <= b && s!.counts[i]++);
        s.sum += seconds;
        s.count++;
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.delay.disable();
    this.observer.disconnect();
  }

  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'gauge' | 'counter', help: string, series: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of series) lines.push(`${name}${labels} ${v}`);
    };
    const cpu = process.cpuUsage();
    metric('process_cpu_user_seconds_total', 'counter', 'User CPU time spent in seconds', [['', cpu.user / 1e6]]);
    metric('process_cpu_system_seconds_total', 'counter', 'System CPU time spent in seconds', [['', cpu.system / 1e6]]);
    metric('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds', [['', (cpu.user + cpu.system) / 1e6]]);
    metric('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds', [['', this.started]]);
    const memory = process.memoryUsage();
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes (native model memory included)', [['', memory.rss]]);
    const fds = openFileDescriptors();
    if (fds !== undefined) metric('process_open_fds', 'gauge', 'Number of open file descriptors', [['', fds]]);
    metric('nodejs_heap_size_total_bytes', 'gauge', 'Process heap size from Node.js in bytes', [['', memory.heapTotal]]);
    metric('nodejs_heap_size_used_bytes', 'gauge', 'Process heap size used from Node.js in bytes', [['', memory.heapUsed]]);
    metric('nodejs_external_memory_bytes', 'gauge', 'Node.js external memory size in bytes', [['', memory.external]]);
    metric('nodejs_array_buffers_bytes', 'gauge', 'Memory of ArrayBuffers and SharedArrayBuffers in bytes', [['', memory.arrayBuffers]]);
    const d = this.delay;
    const s = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
    metric('nodejs_eventloop_lag_min_seconds', 'gauge', 'The minimum recorded event loop delay', [['', s(d.min)]]);
    metric('nodejs_eventloop_lag_max_seconds', 'gauge', 'The maximum recorded event loop delay', [['', s(d.max)]]);
    metric('nodejs_eventloop_lag_mean_seconds', 'gauge', 'The mean of the recorded event loop delays', [['', s(d.mean)]]);
    for (const p of [50, 90, 99]) metric(`nodejs_eventloop_lag_p${p}_seconds`, 'gauge', `The ${p}th percentile of the recorded event loop delays`, [['', s(d.percentile(p))]]);
    d.reset(); // each scrape reports the delays since the previous one
    const now = performance.eventLoopUtilization();
    metric('nodejs_eventloop_utilization', 'gauge', 'Share of time the event loop was busy since the previous scrape', [['', performance.eventLoopUtilization(now, this.lastUtilization).utilization]]);
    this.lastUtilization = now;
    metric('nodejs_active_resources_total', 'gauge', 'Active resources keeping the event loop alive', [['', process.getActiveResourcesInfo().length]]);
    lines.push('# HELP nodejs_gc_duration_seconds Garbage collection duration by kind', '# TYPE nodejs_gc_duration_seconds histogram');
    for (const [kind, h] of this.gc) {
      GC_BUCKETS.forEach((b, i) => lines.push(`nodejs_gc_duration_seconds_bucket{kind="${kind}",le="${b}"} ${h.counts[i]}`));
      lines.push(`nodejs_gc_duration_seconds_bucket{kind="${kind}",le="+Inf"} ${h.count}`, `nodejs_gc_duration_seconds_sum{kind="${kind}"} ${h.sum}`, `nodejs_gc_duration_seconds_count{kind="${kind}"} ${h.count}`);
    }
    metric('nodejs_version_info', 'gauge', 'Node.js version info', [[`{version="${process.version}"}`, 1]]);
    return lines.join('\n') + '\n';
  }
}

function openFileDescriptors(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1; // less the descriptor of the listing itself
  } catch {
    return undefined; // not Linux
  }
}

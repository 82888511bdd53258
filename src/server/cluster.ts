// `affinity serve --workers N`: N HTTP processes (node:cluster, sharing the listening socket) over the same
// model files, mapped read-only so the page cache holds one copy. The primary serves nothing: it starts
// the workers, restarts one that dies, coordinates reloads and drains them all on SIGTERM.
//
// A reload is two-phase. Every worker reads and verifies every model file off to the side (prepare); only
// when all of them succeeded does each swap its models in (commit). One failure anywhere and every worker
// drops what it read (abort): no request ever meets a mix of old and new models across workers for longer
// than the commit messages take, and a bad file never serves anywhere.
import cluster, { type Worker } from 'node:cluster';
import { AffinityError, ErrorCode } from '../core/errors.js';
import type { WithAffinity } from './context.js';
import type { PreparedReload } from './registry.js';

type ToWorker = { affinity: 'prepare' | 'commit' | 'abort'; round: number } | { affinity: 'reloaded'; request: number; ok: boolean; error?: string; code?: string };
type ToPrimary =
  | { affinity: 'ready' }
  | { affinity: 'prepared'; round: number; ok: boolean; error?: string; code?: string }
  | { affinity: 'committed'; round: number }
  | { affinity: 'reload'; request: number };

export interface PrimaryOptions {
  workers: number;
  /** How long a worker gets to prepare a reload, and to drain on shutdown (ms). */
  reloadTimeoutMs?: number;
  graceMs?: number;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

interface ReloadOutcome {
  ok: boolean;
  error?: string;
  code?: string;
}

/** Runs the primary: forks the workers (this same command line, as workers) and never returns. */
export function runPrimary(options: PrimaryOptions): Promise<never> {
  const log = options.log ?? ((message, fields) => console.error(JSON.stringify({ level: 'info', msg: message, ...fields })));
  const reloadTimeoutMs = options.reloadTimeoutMs ?? 150_000;
  const graceMs = options.graceMs ?? 10_000;
  const ready = new Set<Worker>();
  let stopping = false;
  let everReady = false;
  let restartDelay = 100;

  let committed = 0; // reload rounds committed so far
  const fork = () => {
    const worker = cluster.fork({ AFFINITY_CLUSTER_WORKER: '1' });
    const startedAt = Date.now();
    const committedAtFork = committed;
    worker.on('message', (m: ToPrimary) => {
      if (m?.affinity === 'ready') {
        ready.add(worker);
        if (everReady) log('worker restarted and serving', { pid: worker.process.pid });
        else if (ready.size === options.workers) log(`${options.workers} workers serving`, { pids: [...ready].map((w) => w.process.pid) });
        everReady ||= ready.size === options.workers;
        // It read the files before a reload that it missed: one more round, so every worker serves the same.
        if (committed > committedAtFork) void reloadAll();
      } else if (m?.affinity === 'reload') {
        void reloadAll().then((r) => worker.isConnected() && worker.send({ affinity: 'reloaded', request: m.request, ...r } satisfies ToWorker));
      } else onRoundMessage(worker, m);
    });
    worker.on('exit', (code, signal) => {
      ready.delete(worker);
      if (stopping) return;
      if (!everReady) {
        // A worker that cannot start (a bad model file, a port in use) would fail forever: stop everything.
        log('a worker exited before serving: stopping', { pid: worker.process.pid, code, signal });
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGKILL');
        process.exit(1);
      }
      // Restart, backing off while workers keep dying young (a crash loop must not spin the machine).
      restartDelay = Date.now() - startedAt > 30_000 ? 100 : Math.min(restartDelay * 2, 5_000);
      log('worker died: restarting', { pid: worker.process.pid, code, signal, inMs: restartDelay });
      setTimeout(() => !stopping && fork(), restartDelay).unref();
    });
  };

  // Reload rounds: one at a time; requests that arrive during one share the next.
  let round = 0;
  let running: Promise<ReloadOutcome> | undefined;
  let queued: Promise<ReloadOutcome> | undefined;
  const replies = new Map<Worker, ToPrimary>();
  let onReply: (() => void) | undefined;
  const onRoundMessage = (worker: Worker, m: ToPrimary) => {
    if ((m?.affinity === 'prepared' || m?.affinity === 'committed') && m.round === round) {
      replies.set(worker, m);
      onReply?.();
    }
  };
  const collect = (workers: Worker[], what: ToPrimary['affinity'], timeoutMs: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (workers.every((w) => replies.get(w)?.affinity === what || !w.isConnected())) finish();
      };
      const timer = setTimeout(() => finish(), timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        onReply = undefined;
        resolve();
      };
      onReply = check;
      check();
    });
  const oneRound = async (): Promise<ReloadOutcome> => {
    round++;
    replies.clear();
    const workers = [...ready];
    for (const w of workers) w.send({ affinity: 'prepare', round } satisfies ToWorker);
    await collect(workers, 'prepared', reloadTimeoutMs);
    const failed = workers.map((w) => [w, replies.get(w)] as const).find(([, r]) => !(r?.affinity === 'prepared' && r.ok));
    if (failed) {
      for (const w of workers) if (w.isConnected()) w.send({ affinity: 'abort', round } satisfies ToWorker);
      const r = failed[1];
      const outcome = r?.affinity === 'prepared' ? { ok: false, error: r.error, code: r.code } : { ok: false, error: `worker ${failed[0].process.pid} did not answer the reload`, code: ErrorCode.Busy };
      log('reload refused: every worker keeps its models', { round, error: outcome.error });
      return outcome;
    }
    replies.clear();
    for (const w of workers) w.send({ affinity: 'commit', round } satisfies ToWorker);
    await collect(workers, 'committed', 10_000);
    committed++;
    log('reloaded in every worker', { round, workers: workers.length });
    return { ok: true };
  };
  const reloadAll = (): Promise<ReloadOutcome> => {
    if (!running) {
      running = oneRound().finally(() => (running = undefined));
      return running;
    }
    queued ??= running.then(() => {
      queued = undefined;
      return reloadAll();
    });
    return queued;
  };

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('shutting down: draining every worker', { signal });
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    let left = workers.length;
    if (left === 0) process.exit(0);
    for (const w of workers) {
      w.once('exit', () => --left === 0 && process.exit(0));
      w.process.kill('SIGTERM');
    }
    setTimeout(() => {
      for (const w of workers) w.process.kill('SIGKILL');
      process.exit(1);
    }, graceMs + 5_000).unref();
  };

  process.on('SIGHUP', () => void reloadAll());
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < options.workers; i++) fork();
  return new Promise<never>(() => {});
}

/** In a worker: answers the primary's reload rounds, and sends its own reload requests (admin route) there. */
export function attachWorker(app: WithAffinity): void {
  const { registry } = app.affinity;
  const send = (m: ToPrimary) => process.send?.(m);
  let prepared: { round: number; reload: PreparedReload } | undefined;
  let requests = 0;
  const waiting = new Map<number, (r: { ok: boolean; error?: string; code?: string }) => void>();
  process.on('message', (m: ToWorker) => {
    if (m?.affinity === 'prepare') {
      const round = m.round;
      registry.prepareReload().then(
        (reload) => {
          prepared = { round, reload };
          send({ affinity: 'prepared', round, ok: true });
        },
        (err: Error & { code?: string }) => send({ affinity: 'prepared', round, ok: false, error: err.message, code: err.code }),
      );
    } else if (m?.affinity === 'commit') {
      if (prepared?.round === m.round) registry.commitReload(prepared.reload);
      prepared = undefined;
      send({ affinity: 'committed', round: m.round });
    } else if (m?.affinity === 'abort') {
      prepared = undefined;
    } else if (m?.affinity === 'reloaded') {
      waiting.get(m.request)?.(m);
      waiting.delete(m.request);
    }
  });
  registry.coordinator = {
    reloadAll: () =>
      new Promise<void>((resolve, reject) => {
        const request = ++requests;
        waiting.set(request, (r) => (r.ok ? resolve() : reject(new AffinityError(r.error ?? 'the reload failed in a worker', (r.code as ErrorCode) ?? ErrorCode.Internal))));
        send({ affinity: 'reload', request });
      }),
  };
  // SIGHUP belongs to the primary; a hangup sent to the whole process group must not kill a worker.
  process.on('SIGHUP', () => {});
  send({ affinity: 'ready' });
}

/** Whether this process is a worker started by runPrimary. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env.AFFINITY_CLUSTER_WORKER === '1';
}

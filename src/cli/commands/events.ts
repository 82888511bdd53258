// affinity ingest / forget / retrain: the events store from the command line.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { badInput } from '../../core/errors.js';
import { MAX_BATCH } from '../../events/event.js';
import { EventStore } from '../../events/store.js';
import { parseCsv } from '../../io/csv.js';
import { num, usage, type Command } from '../common.js';
import { progress } from '../progress.js';

const STORE_HELP = `  --store SPEC             sqlite:PATH or postgres://user:pass@host/db
  --pseudonymize-key KEY   store HMAC-SHA-256 pseudonyms of customer ids (default: AFFINITY_PSEUDONYMIZE_KEY)`;

async function openStore(values: { store?: string; 'pseudonymize-key'?: string }): Promise<EventStore> {
  if (!values.store) throw usage('--store sqlite:PATH or postgres://... is required');
  return EventStore.open(values.store, { pseudonymizeKey: values['pseudonymize-key'] ?? process.env.AFFINITY_PSEUDONYMIZE_KEY });
}

/** One CSV line's fields (RFC 4180 quoting; an event file keeps each event on one line). */
function csvFields(line: string, where: string): string[] {
  return parseCsv(line, ',', where).next().value?.fields ?? [];
}

const NUMERIC = new Set(['value', 'amount']);

export const ingest: Command = {
  help: `usage: affinity ingest FILE --store SPEC [--batch 1000]

Streams events into the store: FILE is JSON lines (one event per line, as POST /v1/events takes) or CSV
with a header naming the fields (type,customer,item,value,amount,basket,time,id). Batches are checked
whole: a bad line stops the run, naming the line, after the batches before it were committed (ids make
a rerun safe: events already stored are counted as duplicates).

${STORE_HELP}
  --batch N                events per transaction (default 1000, at most ${MAX_BATCH})`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean' }, store: { type: 'string' }, 'pseudonymize-key': { type: 'string' }, batch: { type: 'string' } } });
    if (values.help) return console.log(this.help), 0;
    const file = positionals[0];
    if (!file) throw usage('which file? affinity ingest FILE --store SPEC');
    const size = num(values.batch, 'batch') ?? 1000;
    if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH) throw usage(`--batch must be an integer in 1..${MAX_BATCH}`);
    const bytes = (await stat(file)).size;
    const store = await openStore(values);
    const totals = { stored: 0, duplicates: 0, forgotten: 0 };
    const bar = progress.bar('ingest');
    try {
      const stream = createReadStream(file);
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      let header: string[] | undefined;
      let batch: unknown[] = [];
      let firstLine = 0;
      let n = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        try {
          const r = await store.append(batch);
          totals.stored += r.stored;
          totals.duplicates += r.duplicates;
          totals.forgotten += r.forgotten;
        } catch (err) {
          const m = /^events\[(\d+)\]/.exec((err as Error).message);
          if (m) (err as Error).message = `line ${firstLine + Number(m[1])}: ${(err as Error).message}`;
          throw err;
        }
        batch = [];
        bar(Math.min(1, stream.bytesRead / Math.max(1, bytes)));
      };
      const csv = /\.csv$/i.test(file);
      for await (const line of lines) {
        n++;
        if (line.trim() === '') continue;
        if (csv && !header) {
          header = csvFields(line, `${file}:${n}`).map((h) => h.trim());
          continue;
        }
        if (batch.length === 0) firstLine = n;
        let event: unknown;
        if (csv) {
          const fields = csvFields(line, `${file}:${n}`);
          const e: Record<string, unknown> = {};
          header!.forEach((h, i) => {
            const v = fields[i];
            if (v === undefined || v === '') return;
            e[h] = NUMERIC.has(h) ? Number(v) : h === 'time' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v;
          });
          event = e;
        } else {
          try {
            event = JSON.parse(line);
          } catch {
            throw badInput(`line ${n}: not JSON`);
          }
        }
        batch.push(event);
        if (batch.length >= size) await flush();
      }
      await flush();
      bar(1);
    } finally {
      await store.close();
    }
    console.log(`${totals.stored} events stored, ${totals.duplicates} duplicates skipped, ${totals.forgotten} of forgotten customers refused (${store.location})`);
    return 0;
  },
};

export const forget: Command = {
  help: `usage: affinity forget CUSTOMER --store SPEC [--model name=FILE ...]

Erases a customer: deletes their events (leaving a tombstone, so no later append or retrain brings them
back) and rewrites each model file given without them (atomically). Prints the receipt, which is also
kept in the store's audit records. A running server erases through DELETE /v1/customers/:id instead
(it also updates what it serves).

${STORE_HELP}
  --model name=FILE        a model file to rewrite without the customer; repeatable`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean' }, store: { type: 'string' }, 'pseudonymize-key': { type: 'string' }, model: { type: 'string', multiple: true } } });
    if (values.help) return console.log(this.help), 0;
    const customer = positionals[0];
    if (!customer) throw usage('which customer? affinity forget CUSTOMER --store SPEC');
    const { ModelRegistry } = await import('../../server/registry.js');
    const { EventsService } = await import('../../server/events.js');
    const registry = new ModelRegistry();
    for (const spec of values.model ?? []) {
      const at = spec.indexOf('=');
      if (at <= 0) throw usage(`--model ${spec}: expected name=FILE`);
      await registry.load(spec.slice(0, at), spec.slice(at + 1));
    }
    const store = await openStore(values);
    const service = await EventsService.open({ store, fresh: false }, registry);
    try {
      console.log(JSON.stringify(await service.forget(customer), null, 2));
    } finally {
      await service.close();
      await store.close();
    }
    return 0;
  },
};

const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
/** 30s, 30m, 1h, 1d as milliseconds. */
export function durationMs(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw usage(`--every ${text}: expected a duration such as 30m, 1h or 1d`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export const retrain: Command = {
  help: `usage: affinity retrain --store SPEC --model FILE [--kind als] [--every 1h] [options]

Trains a model from the store's events, compares it with the model in FILE (when there is one) on the
latest day neither saw (nDCG@10), and writes it over FILE only when it is not worse than the margin. A
server serving FILE picks it up on SIGHUP or POST /v1/models/:name/reload; a server with --store can
retrain itself (serve --retrain-every). Each decision is printed and kept in the store's records.

${STORE_HELP}
  --model FILE             the model file to retrain (created when missing)
  --kind als|itemknn|userknn   for a new file (default: the kind of FILE, else als)
  --window-days N          train on the last N days (default: every event)
  --margin X               keep the new model when nDCG@10 >= serving - X (default 0.005)
  --every DURATION         repeat: 30m, 1h, 1d (default: once)
  --factors N, --iterations N, --neighbours N   options of a new model`,
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        help: { type: 'boolean' }, store: { type: 'string' }, 'pseudonymize-key': { type: 'string' }, model: { type: 'string' }, kind: { type: 'string' },
        'window-days': { type: 'string' }, margin: { type: 'string' }, every: { type: 'string' }, factors: { type: 'string' }, iterations: { type: 'string' }, neighbours: { type: 'string' },
      },
    });
    if (values.help) return console.log(this.help), 0;
    if (!values.model) throw usage('--model FILE is required');
    const every = values.every === undefined ? undefined : durationMs(values.every);
    const { existsSync } = await import('node:fs');
    const { ModelRegistry } = await import('../../server/registry.js');
    const { EventsService } = await import('../../server/events.js');
    const { prepareModel } = await import('../common.js');
    const store = await openStore(values);
    const once = async () => {
      const registry = new ModelRegistry();
      const exists = existsSync(values.model!);
      if (exists) await registry.load('model', values.model!);
      const service = await EventsService.open({ store, fresh: false }, registry);
      try {
        const kind = values.kind ?? (exists ? registry.byName('model').kind : 'als');
        const build = values.kind || !exists ? () => prepareModel(kind, values) as never : undefined;
        let decision;
        if (exists) decision = await service.retrain('model', { build, windowDays: num(values['window-days'], 'window-days'), margin: num(values.margin, 'margin') });
        else {
          const { retrainFromStore } = await import('../../server/retrain.js');
          const r = await retrainFromStore({ store, build: build!, windowDays: num(values['window-days'], 'window-days') });
          await r.model!.save(values.model!);
          await store.addRecord('trainings', 'model', { ...r.decision, version: 1 });
          decision = r.decision;
        }
        console.log(JSON.stringify(decision));
      } finally {
        await service.close();
      }
    };
    try {
      await once();
      if (every === undefined) return 0;
      for (;;) {
        await new Promise((r) => setTimeout(r, every));
        await once().catch((err: Error) => console.error(`affinity retrain: ${err.message}`));
      }
    } finally {
      await store.close();
    }
  },
};

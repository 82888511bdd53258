// Columnar files from a data lake: Parquet (through hyparquet, pure JavaScript, with snappy, gzip, zstd,
// brotli and lz4 from hyparquet-compressors) and Arrow IPC, file or stream (through apache-arrow, an optional
// peer dependency). Both are read one row group or record batch at a time, as rows of cell texts, so the
// readers of purchase lines and interactions apply the same column roles, conditions and errors to a
// Parquet file as to a CSV export.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { AffinityError, ErrorCode } from '../core/errors.js';
import type { CsvRow } from './csv.js';

export type TableFormat = 'parquet' | 'arrow';

/** A columnar file opened for reading: its column names, and its rows in bounded batches. */
export interface TableSource {
  format: TableFormat;
  names: string[];
  /** Rows of the named columns, as texts (see cellText), one row group or record batch at a time. */
  batches(columns: number[]): AsyncIterable<CsvRow[]>;
}

/** Parquet by its magic bytes (PAR1), Arrow IPC by its (ARROW1, or a stream's 0xFFFFFFFF continuation marker with an .arrow/.arrows/.ipc/.feather name); null for text. */
export async function tableFormatOf(path: string): Promise<TableFormat | null> {
  const head = Buffer.alloc(8);
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return null;
  try {
    await handle.read(head, 0, 8, 0);
  } finally {
    await handle.close();
  }
  if (head.toString('latin1', 0, 4) === 'PAR1') return 'parquet';
  if (head.toString('latin1', 0, 6) === 'ARROW1') return 'arrow';
  if (head.readUInt32LE(0) === 0xffffffff && /\.(arrows?|ipc|feather)$/i.test(path)) return 'arrow';
  return null;
}

/**
 * The text of one cell, as a CSV export would hold it: '' for null and NaN (pandas writes missing numbers
 * as NaN), integers and floats in their shortest form, 64-bit integers exactly, times as unix seconds.
 */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isNaN(v) ? '' : String(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return String(v.getTime() / 1000);
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
}

export async function openTable(path: string, format: TableFormat): Promise<TableSource> {
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a regular file');
    return format === 'parquet' ? await openParquet(path) : await openArrow(path);
  } catch (err) {
    if (err instanceof AffinityError) throw err;
    throw tableError(path, format, err);
  }
}

/** A decoder's failure as ERR_AFFINITY_PARSE naming the file (a missing file is ERR_AFFINITY_IO). */
export function tableError(path: string, format: TableFormat, err: unknown): AffinityError {
  if (err instanceof AffinityError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT' || e.code === 'EACCES' || e.message === 'not a regular file')
    return new AffinityError(`${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, ErrorCode.Io, { cause: err });
  return new AffinityError(`${path}: not a readable ${format === 'parquet' ? 'Parquet' : 'Arrow IPC'} file: ${e.message}`, ErrorCode.Parse, { cause: err });
}

/** Parquet times decoded straight to unix seconds (to the millisecond, as Dates would hold them). */
const TIMES_AS_SECONDS = {
  timestampFromMilliseconds: (ms: bigint) => Number(ms) / 1000,
  timestampFromMicroseconds: (us: bigint) => Number(us / 1000n) / 1000,
  timestampFromNanoseconds: (ns: bigint) => Number(ns / 1000000n) / 1000,
  dateFromDays: (days: number) => days * 86400,
};

async function openParquet(path: string): Promise<TableSource> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const names = parquetSchema(metadata).children.map((c) => c.element.name);
  return {
    format: 'parquet',
    names,
    async *batches(columns) {
      let start = 0;
      for (const group of metadata.row_groups) {
        const end = start + Number(group.num_rows);
        // Column chunks as decoded (onChunk), not hyparquet's assembled rows: the texts are built once per cell.
        const texts = columns.map(() => new Array<string>(end - start));
        const slot = new Map(columns.map((c, k) => [names[c], k]));
        await parquetRead({
          file,
          metadata,
          compressors,
          columns: columns.map((c) => names[c]),
          rowStart: start,
          rowEnd: end,
          parsers: TIMES_AS_SECONDS,
          onChunk: ({ columnName, columnData, rowStart }) => {
            const out = texts[slot.get(columnName)!];
            const from = rowStart - start;
            for (let r = 0; r < columnData.length; r++) out[from + r] = cellText(columnData[r]);
          },
        }).catch((err) => {
          throw tableError(path, 'parquet', err);
        });
        yield columnRows(texts, end - start, start);
        start = end;
      }
    },
  };
}

/** Rows from columns of texts; `start` rows came before (row numbers are 1-based). */
function columnRows(texts: string[][], count: number, start: number): CsvRow[] {
  const rows: CsvRow[] = new Array(count);
  for (let r = 0; r < count; r++) rows[r] = { fields: texts.map((t) => t[r] ?? ''), line: start + r + 1 };
  return rows;
}

type Arrow = typeof import('apache-arrow');

function arrowModule(): Promise<Arrow> {
  try {
    createRequire(import.meta.url).resolve('apache-arrow');
  } catch {
    throw new AffinityError('reading Arrow IPC files needs apache-arrow: npm install apache-arrow', ErrorCode.Unsupported);
  }
  return import('apache-arrow');
}

async function openArrow(path: string): Promise<TableSource> {
  const arrow = await arrowModule();
  // The schema comes first in both IPC layouts; a second reader streams the batches when asked.
  const first = await arrow.RecordBatchReader.from(createReadStream(path));
  await first.open();
  const names = first.schema.fields.map((f) => f.name);
  await first.cancel();
  return {
    format: 'arrow',
    names,
    async *batches(columns) {
      const reader = await arrow.RecordBatchReader.from(createReadStream(path, { highWaterMark: 1 << 20 }));
      let start = 0;
      try {
        for await (const batch of reader) {
          const vectors = columns.map((c) => {
            const v = batch.getChildAt(c);
            if (!v) throw new Error(`a record batch lacks column ${names[c]}`);
            const typeId = v.type.typeId;
            // Arrow hands times out as milliseconds; as Dates they read as seconds like any other time.
            const isTime = typeId === arrow.Type.Timestamp || typeId === arrow.Type.Date;
            return isTime ? { get: (i: number) => (v.get(i) == null ? null : new Date(Number(v.get(i)))) } : v;
          });
          const texts = vectors.map((v) => Array.from({ length: batch.numRows }, (_, r) => cellText(v.get(r))));
          yield columnRows(texts, batch.numRows, start);
          start += batch.numRows;
        }
      } catch (err) {
        throw tableError(path, 'arrow', err);
      }
    },
  };
}

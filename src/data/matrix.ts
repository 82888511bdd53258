// Dense row-major matrices: the input of k-means, the silhouette and logistic regression.
import { AffinityError, ErrorCode, badInput } from '../core/errors.js';
import { intOption } from '../core/options.js';

/** Row-major dense vectors: `rows` x `dims` values. */
export interface Matrix {
  values: Float32Array;
  rows: number;
  dims: number;
}

/** Accepts number[][] or a Matrix; checks the shape. With `missing`, NaN entries of number[][] are kept (trees read them as missing). */
export function toMatrix(input: Matrix | readonly (readonly number[])[], what = 'vectors', options: { missing?: boolean } = {}): Matrix {
  if (Array.isArray(input)) {
    const rows = input.length;
    const dims = rows > 0 ? (input[0] as readonly number[]).length : 0;
    const values = new Float32Array(rows * dims);
    input.forEach((row: readonly number[], r: number) => {
      if (!Array.isArray(row) || row.length !== dims) throw new AffinityError(`${what}[${r}] must be an array of ${dims} numbers`, ErrorCode.DimMismatch);
      row.forEach((v, d) => {
        if (typeof v !== 'number' || !(Number.isFinite(v) || (options.missing && Number.isNaN(v))))
          throw badInput(`${what}[${r}][${d}] must be a finite number${options.missing ? ' (NaN for missing)' : ''}`);
        values[r * dims + d] = v;
      });
    });
    return { values, rows, dims };
  }
  const m = input as Matrix;
  if (m === null || typeof m !== 'object' || !(m.values instanceof Float32Array)) throw badInput(`${what} must be number[][] or { values: Float32Array, rows, dims }`);
  intOption(m.rows, `${what}.rows`, 0, 0x7ffffffe, 0);
  intOption(m.dims, `${what}.dims`, 1, 0x7ffffffe, 1);
  if (m.values.length !== m.rows * m.dims) throw new AffinityError(`${what}.values has ${m.values.length} entries, expected rows * dims = ${m.rows * m.dims}`, ErrorCode.DimMismatch);
  return m;
}

/** The given rows of a matrix, in that order (indices already checked by the caller). */
export function selectRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const values = new Float32Array(rows.length * m.dims);
  for (let i = 0; i < rows.length; i++) values.set(m.values.subarray(rows[i] * m.dims, (rows[i] + 1) * m.dims), i * m.dims);
  return { values, rows: rows.length, dims: m.dims };
}

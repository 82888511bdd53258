// RFC 4180 text tables (quoted fields, doubled quotes, line breaks inside quotes, CRLF), for the small
// files people export from shops and spreadsheets: catalogues, item lists. Interaction files, which can
// be gigabytes, go through the native reader instead.
import { AffinityError, ErrorCode } from '../core/errors.js';

export interface CsvRow {
  fields: string[];
  /** 1-based line where the row starts. */
  line: number;
}

const CANDIDATES = [',', ';', '\t', '|'];

/** The delimiter of a header line: the candidate found most often outside quotes (',' when none is). */
export function sniffDelimiter(text: string): string {
  let end = text.indexOf('\n');
  if (end < 0) end = text.length;
  const counts = new Map(CANDIDATES.map((c) => [c, 0]));
  let quoted = false;
  for (let i = 0; i < end; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  let best = ',';
  for (const [c, n] of counts) if (n > counts.get(best)!) best = c;
  return best;
}

/** The rows of a CSV text (a BOM is skipped; blank lines are skipped). `where` names the source in errors. */
export function* parseCsv(text: string, delimiter: string, where: string): Generator<CsvRow> {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw new AffinityError(`${where}: the delimiter must be one character other than a quote or a line break`, ErrorCode.BadInput);
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    for (;;) {
      if (text[i] === '"') {
        let closed = false;
        for (i++; i < n; i++) {
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') (field += '"'), i++;
            else {
              closed = true;
              i++;
              break;
            }
          } else {
            if (c === '\n') line++;
            field += c;
          }
        }
        if (!closed) throw new AffinityError(`${where}:${start}: unterminated quoted field`, ErrorCode.Parse);
        if (i < n && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') throw new AffinityError(`${where}:${line}: text after a closing quote`, ErrorCode.Parse);
      } else {
        const from = i;
        while (i < n && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') i++;
        field = text.slice(from, i);
        if (field.includes('"')) throw new AffinityError(`${where}:${line}: a quote inside an unquoted field`, ErrorCode.Parse);
      }
      fields.push(field);
      field = '';
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    if (fields.length === 1 && fields[0] === '') continue;
    yield { fields, line: start };
  }
}

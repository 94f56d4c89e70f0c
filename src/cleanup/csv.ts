// RFC 4180 CSV, read into records keyed by the header row. Written here rather than taken as a
// dependency: the clean-up reads a few small files (an AD export, a ticket list, Splunk's results
// file), and the whole grammar is one state machine.
import { CleanupError } from '../errors.js';

/** Rows of fields. Quoted fields may hold commas, CRLF and doubled quotes; a BOM is dropped. */
export function parseCsvRows(text: string, source: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endField = () => {
    row.push(field);
    field = '';
    fieldStarted = false;
  };
  const endRow = () => {
    endField();
    // A line with nothing on it separates nothing: blank lines (and the final newline) are not rows.
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      endField();
    } else if (c === '\r' && text[i + 1] === '\n') {
      // CRLF: the \n ends the row.
    } else if (c === '\n' || c === '\r') {
      endRow();
      line++;
    } else if (c === '"') {
      throw new CleanupError(`${source}: line ${line}: a quote inside an unquoted field; quote the whole field and double the quote`);
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new CleanupError(`${source}: line ${line}: a quoted field is never closed`);
  if (fieldStarted || row.length > 0) endRow();
  return rows;
}

export interface CsvTable {
  /** Header names as written (trimmed). */
  header: string[];
  /** One record per data row, keyed by lower-cased header name. Missing trailing cells read as ''. */
  records: Array<Record<string, string>>;
}

/** A CSV with a header row. `required` columns must be present (any order, case-insensitive). */
export function parseCsvTable(text: string, source: string, required: readonly string[] = []): CsvTable {
  const rows = parseCsvRows(text, source);
  const header = (rows[0] ?? []).map((h) => h.trim());
  const keys = header.map((h) => h.toLowerCase());
  const missing = required.filter((r) => !keys.includes(r));
  if (rows.length === 0) throw new CleanupError(`${source}: the file is empty; expected a header row with ${required.join(',')}`);
  if (missing.length > 0) {
    throw new CleanupError(
      `${source}: missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}; the header row has ${header.join(',')}`,
    );
  }
  const records = rows.slice(1).map((cells) => {
    const rec: Record<string, string> = {};
    keys.forEach((k, idx) => {
      if (!(k in rec)) rec[k] = cells[idx] ?? '';
    });
    return rec;
  });
  return { header, records };
}

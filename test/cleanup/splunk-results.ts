// Builds what Splunk hands a custom alert action: a gzipped results CSV (multivalue fields as a
// newline-joined column plus `__mv_<field>` in `$a$;$b$` form) and the JSON payload for stdin.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export type ResultRow = Record<string, string | string[] | undefined>;

const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;

export function resultsCsv(rows: ResultRow[]): string {
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const header = fields.flatMap((f) => [f, `__mv_${f}`]);
  const lines = rows.map((r) =>
    fields
      .flatMap((f) => {
        const v = r[f];
        if (Array.isArray(v)) return [v.join('\n'), v.map((x) => `$${x.replace(/\$/g, '$$$$')}$`).join(';')];
        return [v ?? '', ''];
      })
      .map(quote)
      .join(','),
  );
  return `${header.map(quote).join(',')}\r\n${lines.join('\r\n')}\r\n`;
}

export function writeResultsFile(path: string, rows: ResultRow[]): void {
  writeFileSync(path, gzipSync(resultsCsv(rows)));
}

export function alertPayload(resultsFile: string, serverUri: string, configuration: Record<string, string>): string {
  return JSON.stringify({
    app: 'TA-sophos-central',
    owner: 'admin',
    results_file: resultsFile,
    results_link: 'http://splunk.example:8000/app/TA-sophos-central/search?q=%7Cloadjob%20scheduler__admin__search__RMD5_at_1700000000_1',
    search_name: 'Sophos Central - stale device clean-up (example)',
    server_host: 'splunk.example',
    server_uri: serverUri,
    session_key: 'test-session-key-0123456789',
    sid: 'scheduler__admin__search__RMD5_at_1700000000_1',
    configuration,
    result: {},
  });
}

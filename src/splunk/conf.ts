// Reads one stanza of a Splunk .conf file the way splunkd does. Not the `ini` package: .conf values are
// verbatim (a UNC path `\\host\share` keeps both backslashes, `#` and `;` inside a value are not comments),
// only whole lines starting with `#` are comments, a trailing `\` continues a value on the next line, and
// Windows editors may leave a UTF-8 byte-order mark in front of the first stanza.

/** The keys of `[name]` (the last file-order value of each), or undefined when the file has no such stanza. */
export function confStanza(text: string, name: string): Record<string, string> | undefined {
  let found: Record<string, string> | undefined;
  let current: Record<string, string> | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      current = header[1] === name ? (found ??= {}) : undefined;
      continue;
    }
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)}\n${lines[++i]!.trim()}`;
    const eq = line.indexOf('=');
    if (current && eq > 0) current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return found;
}

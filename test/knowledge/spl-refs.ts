// Which sourcetypes and fields an SPL search reads, for the commands the app's dashboards and saved
// searches use; an unknown command is an error, so a new dashboard cannot slip past the field check.
// Fields every event has in Splunk, and names that are eval functions or search keywords, not fields.
const BUILTIN = new Set(['_time', '_raw', 'sourcetype', 'source', 'host', 'index', 'count', 'tag', 'eventtype']);
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'by', 'BY', 'as', 'AS', 'limit', 'true', 'false']);
const AGG = /\b(?:count|dc|sum|avg|max|min|latest|earliest|values|first|last)\(([A-Za-z_][\w.]*)\)(?:\s+as\s+([A-Za-z_]\w*))?/gi;

/** The sourcetypes a search names and the fields it reads; names it creates (as X, eval X=) are left out. */
export function searchRefs(spl: string): { sourcetypes: string[]; fields: string[] } {
  const text = spl.replace(/\$[\w.]+\$/g, 'TOKEN');
  const sourcetypes = [...text.matchAll(/\bsourcetype=("?)([\w:*]+)\1/g)].map((m) => m[2]!);
  const used = new Set<string>();
  const defined = new Set<string>();
  // A name counts as read unless an earlier command created it ("latest(dest) as dest" still reads dest).
  const use = (f: string) => {
    if (!defined.has(f)) used.add(f);
  };
  const exprFields = (expr: string) => {
    // 'name' is a field in eval, however it is spelt ("{}" of a JSON array included).
    const unquoted = expr.replace(/"[^"]*"/g, '""').replace(/'([^']+)'/g, (_, name: string) => (use(name), '""'));
    for (const m of unquoted.matchAll(/([A-Za-z_][\w.]*)\s*(\()?/g)) if (!m[2] && !KEYWORDS.has(m[1]!) && m[1] !== 'TOKEN') use(m[1]!);
  };
  const [base = '', ...pipes] = text.split(/\s\|\s/);
  for (const m of base.matchAll(/([A-Za-z_][\w.]*)\s*!?=/g)) used.add(m[1]!);
  for (const raw of pipes) {
    const [cmd = '', ...rest] = raw.trim().split(/\s+/);
    const args = rest.join(' ');
    if (['stats', 'timechart', 'chart'].includes(cmd)) {
      for (const m of args.matchAll(AGG)) { use(m[1]!); if (m[2]) defined.add(m[2]); }
      for (const m of args.matchAll(/\bcount\s+as\s+(\w+)/gi)) defined.add(m[1]!);
      const by = /\bby\s+(.*)$/i.exec(args)?.[1] ?? '';
      for (const f of by.split(/\s+/)) if (f && !/=/.test(f)) use(f);
    } else if (cmd === 'eval') {
      for (const part of args.split(/,\s*(?=[A-Za-z_]\w*=)/)) {
        const eq = part.indexOf('=');
        exprFields(part.slice(eq + 1));
        defined.add(part.slice(0, eq).trim());
      }
    } else if (cmd === 'where') exprFields(args);
    else if (cmd === 'search') for (const m of args.matchAll(/([A-Za-z_][\w.]*)\s*!?=/g)) use(m[1]!);
    else if (['table', 'fields', 'dedup', 'sort'].includes(cmd)) for (const f of args.split(/[\s,]+/)) { const n = f.replace(/^[-+]/, ''); if (n && !/^\d+$/.test(n)) use(n); }
    else if (cmd === 'convert') for (const m of args.matchAll(/\w+\(([\w.]+)\)/g)) use(m[1]!);
    else if (cmd === 'lookup') {
      // lookup <table> <col> [AS <field>] ... OUTPUT <col> [AS <field>] ...: reads the input fields, creates the outputs.
      const [input = '', output = ''] = args.split(/\s+OUTPUT(?:NEW)?\s+/);
      for (const m of input.split(/\s+/).slice(1).join(' ').matchAll(/([\w.]+)(?:\s+AS\s+([\w.]+))?/gi)) use(m[2] ?? m[1]!);
      for (const m of output.matchAll(/([\w.]+)(?:\s+AS\s+([\w.]+))?/gi)) defined.add(m[2] ?? m[1]!);
    }
    else throw new Error(`searchRefs does not know the command "${cmd}" in: ${spl}`);
  }
  for (const b of BUILTIN) used.delete(b);
  for (const k of ['index', 'sourcetype', 'earliest', 'latest']) used.delete(k);
  return { sourcetypes, fields: [...used] };
}


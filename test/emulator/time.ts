// Parsing of the date-time and duration parameters the real API accepts (sophos-central-api.md §4, §5).

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})?$/;
const DURATION = /^([+-])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * An ISO-8601 date-time to epoch ms; undefined when malformed. No zone means UTC (the Postman examples
 * send `2021-02-12T10:00:00.000` and mean UTC). At most millisecond precision, as the real API
 * rejects more (CONN's comment).
 */
export function parseDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(m[8] ? text : `${text}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A signed ISO-8601 duration (`-P90D`, `-P3DT4H5M0S`) to ms; undefined when malformed or empty.
 * Years and months have no fixed length; they count as 365 and 30 days.
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text.endsWith('P') || text.endsWith('T')) return undefined;
  const n = (i: number): number => Number(m[i] ?? 0);
  const ms = n(2) * 365 * DAY + n(3) * 30 * DAY + n(4) * 7 * DAY + n(5) * DAY + n(6) * HOUR + n(7) * MINUTE + n(8) * SECOND;
  return m[1] === '-' ? -ms : ms;
}

/** `lastSeenBefore`/`lastSeenAfter`: a date-time, or a duration relative to `now`. */
export function parseTimeOrDuration(text: string, now: number): number | undefined {
  if (/^[+-]?P/.test(text)) {
    const d = parseDuration(text);
    return d === undefined ? undefined : now + d;
  }
  return parseDateTime(text);
}

/** The API's timestamp format: UTC, milliseconds, `Z`. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export { SECOND, MINUTE, HOUR, DAY };

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

const PAD2: string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const PAD3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let cachedHour = NaN;
let cachedPrefix = '';

/**
 * The API's timestamp format: UTC, milliseconds, `Z`. Pages hold thousands of timestamps in the same
 * hour, so the `YYYY-MM-DDTHH:` prefix is cached; Date#toISOString alone cost more than the rest of an item.
 */
export function iso(ms: number): string {
  const hour = Math.floor(ms / HOUR);
  if (hour !== cachedHour) {
    cachedHour = hour;
    cachedPrefix = new Date(hour * HOUR).toISOString().slice(0, 14);
  }
  const rest = ms - hour * HOUR;
  const sec = Math.floor(rest / SECOND);
  return `${cachedPrefix}${PAD2[Math.floor(sec / 60)]}:${PAD2[sec % 60]}.${PAD3[rest - sec * SECOND]}Z`;
}

export { SECOND, MINUTE, HOUR, DAY };

// The CLI's Logger: one line per message on stderr, at --log_level and above (stdout carries data only).
import type { Logger, LogLevel } from '../log.js';

const RANK: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 };

export function createStderrLogger(level: LogLevel, out: NodeJS.WritableStream, beforeWrite?: () => void): Logger {
  const line = (at: LogLevel) => (message: string) => {
    if (RANK[at] < RANK[level]) return;
    beforeWrite?.();
    out.write(`${new Date().toISOString()} ${at} ${message.replace(/\s*[\r\n]+\s*/g, ' ')}\n`);
  };
  return { debug: line('DEBUG'), info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}

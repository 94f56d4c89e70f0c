// The CLI's Logger: one line per message on stderr, at --log_level and above (stdout carries data only).
import { LEVEL_RANK, logText, type Logger, type LogLevel } from '../log.js';

export function createStderrLogger(level: LogLevel, out: NodeJS.WritableStream, beforeWrite?: () => void): Logger {
  const line = (at: LogLevel) => (message: string) => {
    if (LEVEL_RANK[at] < LEVEL_RANK[level]) return;
    beforeWrite?.();
    out.write(`${new Date().toISOString()} ${at} ${logText(message)}\n`);
  };
  return { debug: line('DEBUG'), info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}

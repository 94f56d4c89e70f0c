// The logging surface every module uses. The modular input writes one-line, severity-prefixed
// messages to stderr (splunkd.log) and to $SPLUNK_HOME/var/log/splunk/ta_sophos_central.log;
// the CLI writes to stderr at --log_level. Secrets never reach a logger.

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

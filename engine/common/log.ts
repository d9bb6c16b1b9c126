// Engine-side logging without console coupling: the host decides where lines go.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, source: string, message: string) => void;

let sink: LogSink = () => {};
const rateLimit = new Map<string, number>();

export function setLogSink(fn: LogSink): void {
  sink = fn;
}

export function log(level: LogLevel, source: string, message: string): void {
  sink(level, source, message);
}

/**
 * For guest-triggered complaints (wrong device programming, unknown ports):
 * logs the first few occurrences per key so a misbehaving guest cannot flood the host.
 */
export function logGuestError(source: string, key: string, message: string, limit = 10): void {
  const k = source + ':' + key;
  const n = (rateLimit.get(k) ?? 0) + 1;
  rateLimit.set(k, n);
  if (n <= limit) sink('warn', source, message + (n === limit ? ' (further messages suppressed)' : ''));
}

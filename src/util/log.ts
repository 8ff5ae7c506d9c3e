/**
 * A tiny structured logger: one line per event, `time level event key=value…`
 * on stderr. Levels filter cheaply so debug lines cost nothing when off.
 * (Kept dependency-free because every layer may log.)
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

let threshold = RANK[(process.env.NFS_LOCALIO_LOG_LEVEL as LogLevel) ?? 'info'] ?? RANK.info;
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

export function logEnabled(level: LogLevel): boolean {
  return RANK[level] >= threshold;
}

function fmt(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@+-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) return JSON.stringify(`${(v as any).code ?? v.name}: ${v.message}`);
  return JSON.stringify(v) ?? String(v);
}

function emit(level: LogLevel, event: string, fields?: Record<string, unknown>): void {
  if (RANK[level] < threshold) return;
  let line = `${new Date().toISOString()} ${level} ${event}`;
  if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${fmt(v)}`;
  sink(line);
}

export const log = {
  debug: (event: string, fields?: Record<string, unknown>) => emit('debug', event, fields),
  info: (event: string, fields?: Record<string, unknown>) => emit('info', event, fields),
  warn: (event: string, fields?: Record<string, unknown>) => emit('warn', event, fields),
  error: (event: string, fields?: Record<string, unknown>) => emit('error', event, fields),
};

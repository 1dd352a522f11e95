/**
 * The watch history: an append-only JSON-lines file, one line per check or repair, so it
 * survives a restart of the watcher and any tool (jq, grep) can read it. Only summaries
 * are kept (status, duration, step count, a redacted one-line error), never diffs: the
 * file holds nothing a secret could hide in. Created 0600.
 *
 * A line cut by a crash mid-write is skipped on load (and the next append starts on a
 * fresh line), so one torn write never loses the rest of the file.
 */
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HistoryEntry } from './types.js';

const STATUSES = new Set(['in-sync', 'drift', 'unreachable', 'locked', 'error', 'repaired', 'repair-failed']);

function isEntry(v: unknown): v is HistoryEntry {
  const e = v as Partial<HistoryEntry> | null;
  return !!e && typeof e.t === 'string' && typeof e.host === 'string' && typeof e.ms === 'number' && typeof e.steps === 'number' && STATUSES.has(e.status as string);
}

/** Pure: the valid entries of a history file's text, in file order. */
export function parseHistory(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (isEntry(v)) out.push(v);
    } catch {
      // a torn last line from a crash: skip it
    }
  }
  return out;
}

export class HistoryStore {
  private readonly recent = new Map<string, HistoryEntry[]>();
  private needsNewline = false;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    /** Entries kept in memory per host (the history strip). */
    readonly keep: number,
  ) {}

  static async open(file: string, keep = 60): Promise<HistoryStore> {
    const store = new HistoryStore(file, keep);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Create it 0600 if missing; never truncate.
    await (await open(file, 'a', 0o600)).close();
    const text = await readFile(file, 'utf8');
    store.needsNewline = text.length > 0 && !text.endsWith('\n');
    for (const e of parseHistory(text)) store.remember(e);
    return store;
  }

  private remember(e: HistoryEntry): void {
    const list = this.recent.get(e.host) ?? [];
    list.push(e);
    if (list.length > this.keep) list.splice(0, list.length - this.keep);
    this.recent.set(e.host, list);
  }

  /** Newest last. */
  of(host: string): HistoryEntry[] {
    return [...(this.recent.get(host) ?? [])];
  }

  /** Appends in call order (one write at a time), and remembers it at once. */
  append(e: HistoryEntry): Promise<void> {
    this.remember(e);
    const line = `${this.needsNewline ? '\n' : ''}${JSON.stringify(e)}\n`;
    this.needsNewline = false;
    const write = this.queue.then(() => appendFile(this.file, line, { mode: 0o600 }));
    this.queue = write.catch(() => undefined); // one failed write must not block the next
    return write;
  }

  /** Resolves when every append so far is on disk. */
  flush(): Promise<void> {
    return this.queue;
  }
}

/**
 * The three tools must leave the same tree on disk before any of them is timed: a tool
 * that writes less (or something else) would be measured doing less work. A tree is
 * summed up as one line per path: relative path, type, mode, owner, group and the
 * content's SHA-256 (the handler's log: its line count, its lines are dates).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Files whose content differs by design from run to run: compared by line count. */
const COUNTED = new Set(['var/lib/haproxy/reloads']);

export function snapshotTree(root: string): string {
  const out = execFileSync('find', [root, '-mindepth', '1', '-printf', '%P %y %m %u %g\\n'], { encoding: 'utf8' });
  const lines = out.trim().split('\n').filter(Boolean).sort();
  return lines
    .map((l) => {
      const [rel, type] = l.split(' ');
      if (type !== 'f') return l;
      const file = path.join(root, rel!);
      if (COUNTED.has(rel!)) return `${l} lines=${readFileSync(file, 'utf8').split('\n').length - 1}`;
      return `${l} ${execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]}`;
    })
    .join('\n');
}

/** What `b` has that `a` lacks (`+ `) and the reverse (`- `), in path order, `- ` first. */
export function diffSnapshots(a: string, b: string): string[] {
  const as = new Set(a.split('\n').filter(Boolean));
  const bs = new Set(b.split('\n').filter(Boolean));
  const only = (x: Set<string>, y: Set<string>, mark: string) => [...x].filter((l) => !y.has(l)).map((l) => `${mark}${l}`);
  const key = (l: string) => `${l.slice(2).split(' ')[0]} ${l[0] === '-' ? 0 : 1}`;
  return [...only(as, bs, '- '), ...only(bs, as, '+ ')].sort((p, q) => key(p).localeCompare(key(q)));
}

/**
 * Null when every tool's snapshot equals the first one's; otherwise which tool differs
 * from which, and how (the first lines of the difference).
 */
export function compareTools(snapshots: [string, string][]): string | null {
  const [ref, ...others] = snapshots;
  if (!ref) return null;
  for (const [tool, snap] of others) {
    const d = diffSnapshots(ref[1], snap);
    if (d.length) return `${tool} left a different tree than ${ref[0]} (- ${ref[0]} only, + ${tool} only):\n${d.slice(0, 20).join('\n')}`;
  }
  return null;
}

/**
 * The probe: every fact request of every step on a host, grouped by kind, turned into ONE
 * sh script (one command per kind) whose output is framed by a per-run nonce, and the pure
 * parser that turns that output back into Facts.
 */
import { contentCollector, sha256Collector, statCollector } from './path.js';
import { shellCollector, shellGuardScript } from './shell.js';
import { packageCollector } from './package.js';
import { aptListsCollector } from './apt-lists.js';
import { unitCollector } from './unit.js';
import { passwdCollector } from './passwd.js';
import { groupCollector } from './group.js';
import { aclCollector } from './acl.js';
import { pendingCollector } from './pending.js';
import { haproxyCollector, haproxyProcCollector } from './haproxy.js';
import { mtimeCollector } from './mtime.js';
import { joinSh, sh, type Sh } from '../sh.js';
import { emptyFacts, type FactCollector, type FactRequest, type Facts } from './types.js';

type KeyedKind = 'stat' | 'sha256' | 'content' | 'package' | 'unit' | 'passwd' | 'group' | 'acl' | 'pending' | 'haproxy' | 'haproxyProc' | 'mtime';

const COLLECTORS: Record<KeyedKind, FactCollector<unknown>> = {
  stat: statCollector,
  sha256: sha256Collector,
  content: contentCollector,
  package: packageCollector,
  unit: unitCollector,
  passwd: passwdCollector,
  group: groupCollector,
  acl: aclCollector,
  pending: pendingCollector,
  haproxy: haproxyCollector,
  haproxyProc: haproxyProcCollector,
  mtime: mtimeCollector,
};

export const SCRIPT_ENV = sh`export LC_ALL=C
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; export PATH`;

/** `_M=@@NONCE`: the marker that frames a script's output lines. */
export function markerVar(nonce: string): Sh {
  return sh`_M=${`@@${nonce}`}`;
}

/** Requests grouped by kind, keys deduplicated, first-seen order kept. */
export interface ProbePlan {
  keys: Map<KeyedKind, string[]>;
  aptLists: boolean;
  shell: { id: string; script: Sh }[];
}

export function planProbe(requests: FactRequest[]): ProbePlan {
  const keys = new Map<KeyedKind, string[]>();
  const seen = new Set<string>();
  const plan: ProbePlan = { keys, aptLists: false, shell: [] };
  for (const r of requests) {
    if (r.kind === 'aptLists') {
      plan.aptLists = true;
      continue;
    }
    if (r.kind === 'shell') {
      if (!seen.has(`shell\0${r.id}`)) plan.shell.push({ id: r.id, script: r.script });
      seen.add(`shell\0${r.id}`);
      continue;
    }
    const key = 'path' in r ? r.path : r.name;
    const tag = `${r.kind}\0${key}`;
    if (seen.has(tag)) continue;
    seen.add(tag);
    const list = keys.get(r.kind) ?? [];
    list.push(key);
    keys.set(r.kind, list);
  }
  return plan;
}

/** The probe script. Read-only: it never changes the host. */
export function probeScript(plan: ProbePlan, nonce: string): Sh {
  const lines = [SCRIPT_ENV, markerVar(nonce), sh`printf '%s begin\\n' "$_M"`];
  const section = (name: string, body: Sh) => {
    lines.push(sh`printf '\\n%s %s\\n' "$_M" ${name}`);
    lines.push(sh`{ ${body}\n} </dev/null 2>/dev/null`);
  };
  for (const [kind, keys] of plan.keys) section(kind, COLLECTORS[kind].script(keys));
  if (plan.aptLists) section('aptLists', aptListsCollector.script(['']));
  if (plan.shell.length) section('shell', shellGuardScript(plan.shell));
  lines.push(sh`printf '\\n%s end\\n' "$_M"`, sh``);
  return joinSh(lines);
}

export class ProbeOutputError extends Error {}

/** Pure: probe stdout -> Facts. Throws ProbeOutputError when the framing is broken. */
export function parseProbe(plan: ProbePlan, stdout: string, nonce: string): Facts {
  const marker = `@@${nonce}`;
  const start = stdout.indexOf(`${marker} begin\n`);
  const end = stdout.lastIndexOf(`\n${marker} end\n`);
  if (start < 0 || end < 0) throw new ProbeOutputError('probe output is incomplete (connection lost or the shell failed)');
  const body = stdout.slice(start + marker.length + 7, end + 1);
  const sections = new Map<string, string>();
  const re = new RegExp(`\\n${marker} (\\w+)\\n`, 'g');
  const heads = [...body.matchAll(re)];
  heads.forEach((h, i) => {
    const from = h.index! + h[0].length;
    const to = i + 1 < heads.length ? heads[i + 1]!.index! : body.length;
    sections.set(h[1]!, body.slice(from, to).replace(/\n$/, ''));
  });
  const facts = emptyFacts();
  for (const [kind, keys] of plan.keys) {
    const parsed = COLLECTORS[kind].parse(sections.get(kind) ?? '', keys);
    (facts[kind] as Map<string, unknown>) = parsed;
  }
  if (plan.aptLists) {
    const age = aptListsCollector.parse(sections.get('aptLists') ?? '', ['']).get('');
    facts.aptListsAge = typeof age === 'number' ? age : null;
  }
  if (plan.shell.length) {
    facts.shell = shellCollector.parse(sections.get('shell') ?? '', plan.shell.map((s) => s.id));
  }
  return facts;
}

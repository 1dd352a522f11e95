/**
 * Why a step has nothing to do, said from what the probe saw (pyinfra's habit: "already
 * present, mode 0644"). Pure: the facts a step asked for, described one after the other,
 * e.g. `/etc/haproxy/haproxy.cfg: file, mode 0644, root:root, content matches`. Step types
 * whose facts alone do not say it (a `line` step reads the whole file) give their own
 * reason with `ResourceType.okReason`.
 */
import type { FactRequest, Facts, PathStat, UnitState } from './types.js';

const TYPE_NAMES: Record<string, string> = { f: 'file', d: 'directory', l: 'symlink' };

function describeStat(path: string, st: PathStat | null | undefined): string {
  if (!st) return `${path}: absent`;
  const type = st.type === 'l' ? `symlink to ${st.target ?? '?'}` : (TYPE_NAMES[st.type] ?? `type ${st.type}`);
  return `${path}: ${type}, mode ${st.mode}, ${st.owner}:${st.group}`;
}

function describeUnit(name: string, u: UnitState | undefined): string {
  if (!u || u.loadState === 'not-found') return `${name}: not found`;
  const enabled = u.unitFileState ? `, ${u.unitFileState}` : '';
  return `${name}: ${u.activeState} (${u.subState})${enabled}`;
}

/** One phrase per request; null for requests that add nothing to say (contents, pending). */
function describeOne(r: FactRequest, f: Facts): string | null {
  switch (r.kind) {
    case 'stat':
      return describeStat(r.path, f.stat.get(r.path));
    case 'sha256':
      return f.sha256.get(r.path) ? 'content matches' : null;
    case 'package': {
      const p = f.package.get(r.name);
      return p ? `package ${r.name} ${p.version} (${p.status})` : `package ${r.name}: not installed`;
    }
    case 'unit':
      return describeUnit(r.name, f.unit.get(r.name));
    case 'passwd': {
      const u = f.passwd.get(r.name);
      return u ? `user ${r.name}: uid ${u.uid}, gid ${u.gid}, home ${u.home}, shell ${u.shell}` : `user ${r.name}: absent`;
    }
    case 'group': {
      const g = f.group.get(r.name);
      return g ? `group ${r.name}: gid ${g.gid}${g.members.length ? `, members ${g.members.join(',')}` : ''}` : `group ${r.name}: absent`;
    }
    case 'acl': {
      const a = f.acl.get(r.path);
      return a ? `${r.path}: ACL ${a.entries.join(' ') || 'none'}` : `${r.path}: no ACL (absent)`;
    }
    case 'shell': {
      const s = f.shell.get(r.id);
      return s ? `guard command exited ${s.exitCode}` : null;
    }
    case 'aptLists':
      return f.aptListsAge === null ? 'apt lists never updated' : `apt lists ${f.aptListsAge} s old`;
    case 'haproxy':
      return f.haproxy.get(r.path) ? `HAProxy at ${r.path} answers, runtime matches` : `HAProxy at ${r.path} does not answer`;
    default:
      return null;
  }
}

/** `in sync: ` plus what the probe saw, deduplicated, in request order. */
export function describeInSync(requests: FactRequest[], facts: Facts): string {
  const parts = [...new Set(requests.map((r) => describeOne(r, facts)).filter((p): p is string => p !== null))];
  return parts.length ? `in sync: ${parts.join('; ')}` : 'in sync';
}

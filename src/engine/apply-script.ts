/**
 * Builds the ONE apply script of a host from its changes (pure). Structure:
 *   env, sh library, cleanup trap (every staged temp file of this run), the flock,
 *   one `_s` function per changed step run through `_run` (stdin from /dev/null, output
 *   captured, result framed), validation-set commits after each set's last member,
 *   notified handlers (once each), a pending daemon-reload, and `done`.
 * After a failed step no further step starts; handlers notified so far still run, so the
 * running services match the files that were installed.
 */
import path from 'node:path';
import { SCRIPT_ENV } from '../resources/facts/index.js';
import { SH_LIB } from '../resources/sh-lib.js';
import { quote } from '../resources/sh.js';
import type { ManagedFile } from '../resources/file-common.js';
import type { Change, ScriptContext } from '../resources/types.js';
import type { HostJob, ValidateSet } from './types.js';

export function stagePath(dest: string, nonce: string): string {
  return path.posix.join(path.posix.dirname(dest), `.provision-${nonce}.${path.posix.basename(dest)}`);
}

function viewPath(dir: string, nonce: string): string {
  return path.posix.join(path.posix.dirname(dir), `.provision-${nonce}.view-${path.posix.basename(dir)}`);
}

const RUN_LIB = String.raw`
_run() {
  _C=0
  printf '%s begin %s\n' "$_M" "$1"
  _s </dev/null >"$_T/o" 2>&1
  _rc=$?
  if [ "$_rc" -ne 0 ]; then
    _FAILED=1
    printf '%s failed %s %s\n' "$_M" "$1" "$_rc"; base64 -w0 < "$_T/o"; printf '\n'
    return 1
  fi
  if [ "$_C" = 1 ]; then printf '%s changed %s\n' "$_M" "$1"; else printf '%s ok %s\n' "$_M" "$1"; fi
}
_runh() {
  _C=0
  _h </dev/null >"$_T/o" 2>&1
  _rc=$?
  if [ "$_rc" -ne 0 ]; then
    _FAILED=1
    printf '%s hfailed %s %s\n' "$_M" "$1" "$_rc"; base64 -w0 < "$_T/o"; printf '\n'
  else
    printf '%s hok %s\n' "$_M" "$1"
  fi
}
`;

export interface ApplyScript {
  script: string;
  /** Step indexes in script order. */
  steps: number[];
  /** Handler names in script order (index used in the output framing). */
  handlers: string[];
  /** Validation set name -> the step indexes whose files it installs. */
  setMembers: Map<string, number[]>;
}

function memberFile(change: Change): ManagedFile | null {
  const spec = change.spec as Partial<ManagedFile>;
  return typeof spec?.dest === 'string' && Buffer.isBuffer(spec.content) ? (spec as ManagedFile) : null;
}

/** The commit of one validation set: views, the validate command, then every rename. */
function setCommit(set: ValidateSet, members: ManagedFile[], nonce: string): string {
  const out: string[] = [];
  let command = set.command;
  const views: string[] = [];
  for (const [name, p] of Object.entries(set.paths)) {
    const v = `_v_${name.replace(/\W/g, '_')}`;
    const inside = members.filter((m) => path.posix.dirname(m.dest) === p);
    const exact = members.find((m) => m.dest === p);
    if (exact) {
      out.push(`if [ -e ${quote(stagePath(p, nonce))} ]; then ${v}=${quote(stagePath(p, nonce))}; else ${v}=${quote(p)}; fi`);
    } else if (inside.length) {
      const view = viewPath(p, nonce);
      views.push(view);
      out.push(`${v}=${quote(view)}; rm -rf -- "$${v}"; mkdir -p -- "$${v}" || return 1`);
      out.push(`if [ -d ${quote(p)} ]; then cp -a -- ${quote(p)}/. "$${v}"/ || return 1; rm -f -- "$${v}"/.provision-${nonce}.*; fi`);
      for (const m of inside) {
        const base = quote(path.posix.basename(m.dest));
        if (m.state === 'absent') out.push(`rm -f -- "$${v}"/${base}`);
        else out.push(`if [ -e ${quote(stagePath(m.dest, nonce))} ]; then cp -p -- ${quote(stagePath(m.dest, nonce))} "$${v}"/${base} || return 1; fi`);
      }
    } else {
      out.push(`${v}=${quote(p)}`);
    }
    command = command.split(`{${name}}`).join(`"$${v}"`);
  }
  const cleanup = views.map((v) => `rm -rf -- ${quote(v)}`).join('; ') || ':';
  const stages = members.filter((m) => m.state !== 'absent').map((m) => quote(stagePath(m.dest, nonce)));
  out.push(
    `if ! ( ${command}\n) >"$_T/v" 2>&1; then cat "$_T/v" >&2; ${cleanup}; rm -f -- ${stages.join(' ') || '/dev/null/none'}; ` +
      `_err ${quote(`validate_set ${set.name} failed: nothing of this set was installed`)}; return 1; fi`,
  );
  out.push(cleanup);
  for (const m of members) {
    if (m.state === 'absent') out.push(`_absent ${quote(m.dest)} || return 1`);
    else out.push(`if [ -e ${quote(stagePath(m.dest, nonce))} ]; then _commit ${quote(m.dest)} ${quote(stagePath(m.dest, nonce))} ${m.backup ? 1 : 0} || return 1; _changed; fi`);
  }
  return out.join('\n');
}

export function buildApplyScript(job: HostJob, changes: Change[], nonce: string, holder: string): ApplyScript {
  const byStep = new Map(changes.map((c) => [c.step, c]));
  const ordered = job.steps.filter((s) => byStep.has(s.index));
  const setMembers = new Map<string, number[]>();
  for (const s of ordered) {
    if (s.validateSet) setMembers.set(s.validateSet, [...(setMembers.get(s.validateSet) ?? []), s.index]);
  }
  const allStages: string[] = [];
  const allViews: string[] = [];
  const parts: string[] = [SCRIPT_ENV, `umask 022`, `_M='@@${nonce}'`, SH_LIB, RUN_LIB];

  // Step fragments first (pure), so the trap below knows every temp path.
  const bodies: string[] = [];
  const handlerNames: string[] = [];
  const notified = (s: (typeof ordered)[number]) => s.notify.map((n) => `_H${handlerIndex(n)}=1`).join('; ');
  const handlerIndex = (n: string) => {
    let i = handlerNames.indexOf(n);
    if (i < 0) i = handlerNames.push(n) - 1;
    return i;
  };
  for (const s of ordered) {
    const change = byStep.get(s.index)!;
    const ctx: ScriptContext = {
      nonce,
      stagePath: (d) => {
        const p = stagePath(d, nonce);
        allStages.push(p);
        return p;
      },
      validateSet: s.validateSet,
    };
    let body = s.type.apply(change, ctx);
    if (s.validateSet) {
      const members = setMembers.get(s.validateSet)!;
      if (members[members.length - 1] === s.index) {
        const set = job.validateSets.get(s.validateSet)!;
        const files = members.map((i) => memberFile(byStep.get(i)!)).filter((m): m is ManagedFile => m !== null);
        for (const p of Object.values(set.paths)) allViews.push(viewPath(p, nonce));
        body += `\n_rc=$?; [ "$_rc" -eq 0 ] || return "$_rc"\n${setCommit(set, files, nonce)}`;
      }
    }
    const notify = s.notify.length ? `\n[ "$_C" = 1 ] && { ${notified(s)}; }` : '';
    bodies.push(`if [ -z "$_FAILED" ]; then\n_s() {\n${body}\n}\n_run ${s.index}${notify}\nfi`);
  }
  const rmStages = [...new Set(allStages)].map(quote).join(' ');
  const rmViews = [...new Set(allViews)].map(quote).join(' ');
  parts.push(
    `_T=$(mktemp -d /tmp/.provision-${nonce}.XXXXXX) || exit 70`,
    // A function, not a trap string: the quoted paths may themselves contain quotes.
    `_cleanup() {\n  rm -rf -- "$_T" ${rmViews}\n  rm -f -- ${rmStages || '/dev/null/none'}\n}`,
    `trap _cleanup EXIT`,
    `trap 'exit 130' INT HUP TERM`,
    `mkdir -p -- ${quote(path.posix.dirname(job.lockFile))} 2>/dev/null`,
    `exec 9>>${quote(job.lockFile)} || { printf '%s lockerror\\n' "$_M"; exit 75; }`,
    `if ! flock -n 9; then printf '%s locked\\n' "$_M"; cat -- ${quote(job.lockFile)}; printf '\\n%s lockend\\n' "$_M"; exit 75; fi`,
    `printf '%s\\n' ${quote(holder)} > ${quote(job.lockFile)}`,
    `printf '%s start\\n' "$_M"`,
    ...bodies,
  );
  // Handlers run once each, in the order the playbooks define them (as in Ansible), not
  // in notification order: a `restart` defined before a `reload` of the same unit wins.
  const defined = [...job.handlers.keys()];
  const runOrder = [...handlerNames].sort((a, b) => defined.indexOf(a) - defined.indexOf(b));
  runOrder.forEach((name) => {
    const i = handlerNames.indexOf(name);
    const h = job.handlers.get(name)!;
    const frag = h.type.handler!(h.spec, { nonce, stagePath: (d) => stagePath(d, nonce) });
    parts.push(`if [ "$_H${i}" = 1 ]; then\n_h() {\n${frag}\n}\n_runh ${i}\nfi`);
  });
  parts.push(`_daemon_reload || _FAILED=1`, `: > ${quote(job.lockFile)}`, `printf '%s done\\n' "$_M"`, `[ -z "$_FAILED" ]`);
  return { script: parts.join('\n') + '\n', steps: ordered.map((s) => s.index), handlers: handlerNames, setMembers };
}

/**
 * Builds the ONE apply script of a host from its changes (pure). Structure:
 *   env, sh library, cleanup trap (every staged temp file of this run), the flock,
 *   one `_s` function per changed step run through `_run` (stdin from /dev/null, output
 *   captured, result framed), validation-set commits after each set's last member,
 *   notified handlers (once each), a pending daemon-reload, and `done`.
 * After a failed step no further step starts; handlers notified so far still run, so the
 * running services match the files that were installed.
 *
 * Stopping at a step boundary. Before each step `_run` checks two things, with builtins
 * only: the stop flag `$_T/stop` (the controller creates it with a second exec when the
 * user presses Ctrl-C; `$_T` is announced on the `start` line), and that its stdout still
 * reaches the controller (the `begin` line is written first; SIGPIPE is trapped, so a
 * write to a dropped session fails instead of killing the shell without its EXIT trap).
 * Either way no further step starts, the running one has finished, the notified handlers
 * still run, and the EXIT trap removes every staged file. Steps and handlers run with the
 * lock's fd closed, so the lock lives exactly as long as this shell: a killed shell never
 * leaves it held, and a shell whose controller is gone is found by the next run (see
 * LOCK_LIB) as a stale holder.
 */
import path from 'node:path';
import { markerVar, SCRIPT_ENV } from '../resources/facts/index.js';
import { SH_LIB, shLibrary } from '../resources/sh-lib.js';
import { joinSh, rawSh, sh, shVar, type Sh } from '../resources/sh.js';
import { encodeHandlerName } from '../resources/facts/pending.js';
import type { Change, ManagedFile, ScriptContext } from '../resources/types.js';
import type { HostJob, ResolvedStep, ValidateSet } from './types.js';
import { JOURNAL_LIB, journalStart } from './journal.js';
import { liveFlag, liveWiring } from './live-changes.js';

export function stagePath(dest: string, nonce: string): string {
  return path.posix.join(path.posix.dirname(dest), `.provision-${nonce}.${path.posix.basename(dest)}`);
}

function viewPath(dir: string, nonce: string): string {
  return path.posix.join(path.posix.dirname(dir), `.provision-${nonce}.view-${path.posix.basename(dir)}`);
}

/** The step and handler runners (sh/run.sh). */
const RUN_LIB = shLibrary('run');

/**
 * The lock (sh/lock.sh). The lock file holds one line: the controller's holder text plus this shell's
 * `remote_pid`, its start time (so a reused pid is not mistaken for it) and `session`, the
 * pid of the nearest sshd ancestor (the SSH session; its parent when there is none).
 * A holder is live while that process still runs and its session still exists; otherwise
 * it is stale: a run whose controller went away while a step was running. Only builtins
 * and /proc reads on the normal path.
 */
const LOCK_LIB = shLibrary('lock');

/** The sh library of the apply script: shell text as written, checked by its own tests. */
const LIBS = [rawSh(SH_LIB, 'the sh library'), rawSh(RUN_LIB, 'the apply sh library'), rawSh(LOCK_LIB, 'the lock sh library'), rawSh(JOURNAL_LIB, 'the journal sh library')];

/** `_H<i>`: set when handler i was notified. */
function handlerVar(i: number): Sh {
  return shVar(`_H${i}`);
}

export interface ApplyScript {
  script: Sh;
  /** Step indexes in script order. */
  steps: number[];
  /** Handler names in script order (index used in the output framing). */
  handlers: string[];
  /** Validation set name -> the step indexes whose files it installs. */
  setMembers: Map<string, number[]>;
  /** Raw payloads to stream after the script, in the order it reads them. */
  payloads: Buffer[];
}

/** The file a validation set's member installs: its step type says (only file-like types manage one). */
function memberFile(step: ResolvedStep, change: Change): ManagedFile | null {
  return step.type.managedFile?.(change) ?? null;
}

/** The commit of one validation set: views, the validate command, then every rename. */
function setCommit(set: ValidateSet, members: ManagedFile[], nonce: string): Sh {
  const out: Sh[] = [];
  let command = set.command;
  const views: string[] = [];
  for (const [name, p] of Object.entries(set.paths)) {
    const v = shVar(`_v_${name.replace(/\W/g, '_')}`);
    const inside = members.filter((m) => path.posix.dirname(m.dest) === p);
    const exact = members.find((m) => m.dest === p);
    if (exact) {
      out.push(sh`if [ -e ${stagePath(p, nonce)} ]; then ${v}=${stagePath(p, nonce)}; else ${v}=${p}; fi`);
    } else if (inside.length) {
      const view = viewPath(p, nonce);
      views.push(view);
      out.push(sh`${v}=${view}; rm -rf -- "$${v}"; mkdir -p -- "$${v}" || return 1`);
      out.push(sh`if [ -d ${p} ]; then cp -a -- ${p}/. "$${v}"/ || return 1; rm -f -- "$${v}"/.provision-${nonce}.*; fi`);
      for (const m of inside) {
        const base = path.posix.basename(m.dest);
        if (m.state === 'absent') out.push(sh`rm -f -- "$${v}"/${base}`);
        else out.push(sh`if [ -e ${stagePath(m.dest, nonce)} ]; then cp -p -- ${stagePath(m.dest, nonce)} "$${v}"/${base} || return 1; fi`);
      }
    } else {
      out.push(sh`${v}=${p}`);
    }
    command = command.split(`{${name}}`).join(`"$${v.text}"`);
  }
  const cleanup = views.length ? joinSh(views.map((v) => sh`rm -rf -- ${v}`), sh`; `) : sh`:`;
  const stages = members.filter((m) => m.state !== 'absent').map((m) => stagePath(m.dest, nonce));
  out.push(
    joinSh(
      [
        sh`if ! ( ${rawSh(command, 'the validate_set command the user wrote')}\n) >"$_T/v" 2>&1; then cat "$_T/v" >&2; ${cleanup}; rm -f -- ${stages.length ? stages : sh`/dev/null/none`}; `,
        sh`_err ${`validate_set ${set.name} failed: nothing of this set was installed`}; return 1; fi`,
      ],
      sh``,
    ),
  );
  out.push(cleanup);
  for (const m of members) {
    if (m.state === 'absent') out.push(sh`_absent ${m.dest} || return 1`);
    else out.push(sh`if [ -e ${stagePath(m.dest, nonce)} ]; then _commit ${m.dest} ${stagePath(m.dest, nonce)} ${m.backup ? 1 : 0} || return 1; _changed; fi`);
  }
  return joinSh(out);
}

/** Where an apply records notified handlers until they succeed (beside the lock). */
export function pendingDir(lockFile: string): string {
  return `${lockFile}.handlers`;
}

export interface ApplyScriptOptions {
  /** `controller=... user=... pid=... started=...` (run-wide). */
  holder: string;
  /** Stop a stale holder of the lock and take it (`--break-lock`); a live holder is never touched. */
  breakLock?: boolean;
  /** Seconds a stale holder gets after SIGTERM to clean up before SIGKILL (default 30). */
  breakLockGraceS?: number | undefined;
  /** Handlers an earlier apply notified but never completed: run them in this one. */
  pending?: string[];
  /** The connection can stream raw payloads after the script (see ExecOptions.payloads). */
  payloads?: boolean;
  /** sh lines run under the lock before any step (a saved plan's fingerprint check). */
  guard?: Sh | undefined;
}

/**
 * The script's parts in the order they are built: the steps' fragments first (pure), so
 * the cleanup trap knows every temp path; then the lock preamble, the bodies, the
 * deferred live notifications and the handlers.
 */
class ApplyScriptBuild {
  readonly byStep: Map<number, Change>;
  readonly ordered: ResolvedStep[];
  readonly setMembers = new Map<string, number[]>();
  readonly allStages: string[] = [];
  readonly allViews: string[] = [];
  /** Large and binary contents: streamed after the script, read into the work dir at the
   * start (under the lock), and installed from there by the steps' _put. */
  readonly payloads: Buffer[] = [];
  readonly handlerNames: string[] = [];
  /** A notified handler is recorded on the host at once and forgotten only when it has
   * succeeded: a run cut or interrupted before its handlers, or a failed handler, leaves
   * the record, and the next run (whose probe sees the files in sync) still runs it. */
  readonly record: string;
  readonly live: ReturnType<typeof liveWiring>;

  constructor(
    readonly job: HostJob,
    changes: Change[],
    readonly nonce: string,
    readonly opts: ApplyScriptOptions,
  ) {
    this.byStep = new Map(changes.map((c) => [c.step, c]));
    this.ordered = job.steps.filter((s) => this.byStep.has(s.index));
    for (const s of this.ordered) {
      if (s.validateSet) this.setMembers.set(s.validateSet, [...(this.setMembers.get(s.validateSet) ?? []), s.index]);
    }
    this.record = pendingDir(job.lockFile);
    this.live = liveWiring(changes);
  }

  mark(n: string): string {
    return `${this.record}/${encodeHandlerName(n)}`;
  }

  handlerIndex(n: string): number {
    let i = this.handlerNames.indexOf(n);
    if (i < 0) i = this.handlerNames.push(n) - 1;
    return i;
  }

  notified(s: ResolvedStep): Sh {
    return joinSh([sh`[ -d ${this.record} ] || mkdir -p -- ${this.record}`, ...s.notify.map((n) => sh`${handlerVar(this.handlerIndex(n))}=1; : > ${this.mark(n)}`)], sh`; `);
  }

  private context(s: ResolvedStep): ScriptContext {
    const ctx: ScriptContext = {
      nonce: this.nonce,
      stagePath: (d) => {
        const p = stagePath(d, this.nonce);
        this.allStages.push(p);
        return p;
      },
      validateSet: s.validateSet,
    };
    if (this.opts.payloads) ctx.payload = (content: Buffer) => sh`"$_T/p${this.payloads.push(content) - 1}"`;
    const liveStep = this.live.liveSteps.get(s.index);
    if (liveStep) ctx.liveFiles = liveStep.files;
    return ctx;
  }

  /** A step's fragment, with its validation set's commit when it is the set's last member. */
  private fragment(s: ResolvedStep): Sh {
    const body = s.type.apply(this.byStep.get(s.index)!, this.context(s));
    if (!s.validateSet) return body;
    const members = this.setMembers.get(s.validateSet)!;
    if (members[members.length - 1] !== s.index) return body;
    const set = this.job.validateSets.get(s.validateSet)!;
    const files = members.map((i) => memberFile(this.ordered.find((m) => m.index === i)!, this.byStep.get(i)!)).filter((m): m is ManagedFile => m !== null);
    for (const p of Object.values(set.paths)) this.allViews.push(viewPath(p, this.nonce));
    return sh`${body}\n_rc=$?; [ "$_rc" -eq 0 ] || return "$_rc"\n${setCommit(set, files, this.nonce)}`;
  }

  /** Each step guarded by the run's failure flags, then its notification. */
  stepBodies(): Sh[] {
    return this.ordered.map((s) => {
      const body = this.fragment(s);
      const liveStep = this.live.liveSteps.get(s.index);
      // _N: set by _changed, not by _changed_live (a runtime change needs no handler).
      // A file change applied live by a later step: notified only if that step does not succeed live.
      const deferred = this.live.deferred.get(s.index);
      const notify = deferred ? sh`\n${deferred}` : s.notify.length ? sh`\n[ "$_N" = 1 ] && { ${this.notified(s)}; }` : sh``;
      const after = liveStep ? sh`; _xr=$?${notify}\n${liveStep.after}` : notify;
      return sh`if [ -z "$_FAILED$_STOPPED$_LOST" ]; then\n_s() {\n${body}\n}\n_run ${s.index}${after}\nfi`;
    });
  }

  /** The work dir, its cleanup trap, the lock (or its refusal) and the holder line. */
  preamble(): Sh[] {
    const { job, opts, nonce } = this;
    // Run with the work dir as $1 (from the EXIT trap, or by a breaker of this run's lock).
    const cleanup = sh`rm -rf -- "$1" ${[...new Set(this.allViews)]} ${[...new Set(this.allStages)]}`;
    return [
      sh`_T=$(mktemp -d /tmp/.provision-${nonce}.XXXXXX) || exit 70`,
      // A function, not a trap string: the quoted paths may themselves contain quotes. The
      // same commands are left in the work dir for a \`--break-lock\` that must KILL this shell.
      sh`_cleanup() {\nset -- "$_T"\n${cleanup}\n}`,
      // printf is a builtin: no process spent on every apply for a file rarely needed.
      sh`printf '%s\\n' ${cleanup.text} > "$_T/cleanup"`,
      sh`trap _cleanup EXIT`,
      sh`trap 'exit 130' INT HUP TERM`,
      sh`[ -d ${path.posix.dirname(job.lockFile)} ] || mkdir -p -- ${path.posix.dirname(job.lockFile)} 2>/dev/null`,
      sh`exec 9>>${job.lockFile} || { printf '%s lockerror\\n' "$_M"; exit 75; }`,
      sh`if ! flock -n 9; then`,
      sh`  _held=; read -r _held < ${job.lockFile} 2>/dev/null; _state=$(_lockstate "$_held" 9>&-)`,
      opts.breakLock
        ? sh`  case $_state in stale*) printf '%s broke %s\\n' "$_M" "$_held"; _GRACE=${Math.max(1, Math.round(opts.breakLockGraceS ?? 30))}; _breaklock ${job.lockFile} "$_held" || { printf '%s lockerror\\n' "$_M"; exit 75; } ;; *) false ;; esac ||`
        : sh`  false ||`,
      sh`  { printf '%s locked\\n%s\\n%s lockend %s\\n' "$_M" "$_held" "$_M" "$_state"; exit 75; }`,
      sh`fi`,
      // This shell's start time, read before _session walks (and re-reads) its ancestors.
      sh`_pstat $$; _mystart=$_ps; _session $$`,
      sh`printf '%s remote_pid=%s remote_start=%s session=%s work=%s\\n' ${opts.holder} $$ "$_mystart" "$_sess" "$_T" > ${job.lockFile}`,
      sh`printf '%s start %s\\n' "$_M" "$_T"`,
    ];
  }

  /** fd 3 holds the payloads (FRAMED_SHELL); a short read means the stream was cut. */
  payloadReader(): Sh[] {
    if (!this.payloads.length) return [];
    return [
      sh`_payload() { head -c "$2" <&3 > "$_T/p$1" && [ "$(wc -c < "$_T/p$1")" -eq "$2" ]; }`,
      sh`${joinSh(this.payloads.map((p, i) => sh`_payload ${i} ${p.length}`), sh` && `)} || { _err 'the file contents sent after the script arrived incomplete; nothing was changed'; exit 70; }`,
      sh`exec 3<&-`,
    ];
  }

  /** Live file changes whose live step did not take them: their handlers are notified now. */
  deferredNotifications(): Sh[] {
    return this.live.remaining.flatMap((i) => {
      const s = this.ordered.find((o) => o.index === i)!;
      return s.notify.length ? [sh`[ "$${liveFlag(i)}" = 1 ] && { ${this.notified(s)}; }`] : [];
    });
  }

  /**
   * Handlers run once each, in the order the playbooks define them (as in Ansible), not
   * in notification order: a `restart` defined before a `reload` of the same unit wins.
   */
  handlerRuns(): Sh[] {
    const defined = [...this.job.handlers.keys()];
    const runOrder = [...this.handlerNames].sort((a, b) => defined.indexOf(a) - defined.indexOf(b));
    return runOrder.map((name) => {
      const i = this.handlerNames.indexOf(name);
      const h = this.job.handlers.get(name)!;
      const frag = h.type.handler!(h.spec, { nonce: this.nonce, stagePath: (d) => stagePath(d, this.nonce) });
      return sh`if [ "$${handlerVar(i)}" = 1 ]; then\n_h() {\n${frag}\n}\n_runh ${i} && rm -f -- ${this.mark(name)}\nfi`;
    });
  }
}

export function buildApplyScript(job: HostJob, changes: Change[], nonce: string, opts: ApplyScriptOptions): ApplyScript {
  const b = new ApplyScriptBuild(job, changes, nonce, opts);
  const bodies = b.stepBodies();
  const pending = (opts.pending ?? []).filter((n) => job.handlers.has(n)).map((n) => sh`${handlerVar(b.handlerIndex(n))}=1`);
  const deferred = b.deferredNotifications();
  const parts: Sh[] = [
    SCRIPT_ENV,
    sh`umask 022`,
    markerVar(nonce),
    sh`_FAILED= _STOPPED= _LOST=`,
    sh`trap '_LOST=1' PIPE`,
    ...LIBS,
    ...b.preamble(),
    // What this run replaces is recorded beside the lock, for an automatic restore.
    ...(opts.guard ? [opts.guard] : []),
    journalStart(job.lockFile, opts.holder),
    ...b.payloadReader(),
    ...pending,
    ...bodies,
    ...deferred,
    ...b.handlerRuns(),
    sh`_daemon_reload || _FAILED=1`,
    sh`: > ${job.lockFile}`,
    sh`printf '%s done\\n' "$_M"`,
    sh`[ -z "$_FAILED$_STOPPED$_LOST" ]`,
  ];
  // One brace group: sh parses all of it before running any of it, so a script cut short
  // in transit (the session dropped while it was still arriving) runs nothing at all.
  return { script: sh`{\n${joinSh(parts)}\n}\n`, steps: b.ordered.map((s) => s.index), handlers: b.handlerNames, setMembers: b.setMembers, payloads: b.payloads };
}

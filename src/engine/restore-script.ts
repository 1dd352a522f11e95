/**
 * Automatic restore, host side (pure generators and parser).
 *
 * The journal. Every apply keeps, beside its lock, a record of what it replaced:
 * `${lockFile}.restore/` (0700) holds `run` (the run's holder line, so a restore never
 * puts back another run's files), `index` (one line per path: `replaced N PATH` with the
 * old copy saved as `N`, or `created N PATH` for a file that did not exist) and the saved
 * copies. `_jsave PATH` is called by `_commit`, `_line` and `_absent` (sh-lib) before they
 * touch PATH, once per path per run; outside an apply it does nothing. Units, drop-ins
 * and every member of a validation set go through `_commit`, so they are all recorded.
 *
 * The restore script (ONE exec, under the host's lock): puts every recorded path back as
 * it was, all of them before anything is restarted (a validation set comes back whole),
 * in reverse order, each atomically (copy beside it, rename); daemon-reload when a unit
 * file came back; runs the handlers the apply ran; then the host-side health gates.
 */
import { markerVar, SCRIPT_ENV } from '../resources/facts/index.js';
import { SH_LIB, shLibrary } from '../resources/sh-lib.js';
import { joinSh, rawSh, sh, type Sh } from '../resources/sh.js';
import { encodeHandlerName } from '../resources/facts/pending.js';
import { gateSnippet } from './health-script.js';
import type { Gate } from './health.js';
import type { HandlerOutcome, HostJob } from './types.js';
import { pendingDir } from './apply-script.js';
import { journalDir } from './journal.js';

const RESTORE_LIB = shLibrary('restore');

export interface RestoreScript {
  script: Sh;
  handlers: string[];
}

/**
 * The restore of one host: `holder` names the run whose journal may be put back,
 * `handlers` are the ones its apply ran (in the playbooks' order), `gates` all of the
 * host's gates (only the host-side ones run here).
 */
export function buildRestoreScript(job: HostJob, holder: string, handlers: readonly string[], gates: readonly Gate[], nonce: string): RestoreScript {
  const defined = [...job.handlers.keys()];
  const order = handlers.filter((n) => job.handlers.has(n)).sort((a, b) => defined.indexOf(a) - defined.indexOf(b));
  const record = pendingDir(job.lockFile);
  const parts = [
    SCRIPT_ENV,
    sh`umask 022`,
    markerVar(nonce),
    rawSh(SH_LIB, 'the sh library'),
    rawSh(RESTORE_LIB, 'the restore sh library'),
    sh`_G=$(mktemp -d /tmp/.provision-restore.XXXXXX) || exit 70`,
    sh`trap 'rm -rf -- "$_G"' EXIT`,
    sh`exec 9>>${job.lockFile} || { printf '%s lockerror\\n' "$_M"; exit 75; }`,
    sh`flock -w 30 9 || { printf '%s locked\\n' "$_M"; exit 75; }`,
    sh`_J=${journalDir(job.lockFile)}`,
    sh`_run=; read -r _run < "$_J/run" 2>/dev/null`,
    sh`if [ "$_run" != ${holder} ] || [ ! -s "$_J/index" ]; then printf '%s nojournal\\n' "$_M"; exit 0; fi`,
    sh`if ! _restore; then printf '%s rdone fail\\n' "$_M"; exit 1; fi`,
    sh`printf '%s rdone ok\\n' "$_M"`,
    // The journal is spent: a second restore must not put back files twice.
    sh`rm -rf -- "$_J"`,
  ];
  order.forEach((name, i) => {
    const h = job.handlers.get(name)!;
    const frag = h.type.handler!(h.spec, { nonce, stagePath: (d) => d });
    parts.push(sh`_h() {\n${frag}\n}\n_rh ${i} && rm -f -- ${`${record}/${encodeHandlerName(name)}`}`);
  });
  parts.push(sh`_daemon_reload`, gateSnippet(gates), sh`printf '%s done\\n' "$_M"`);
  return { script: sh`{\n${joinSh(parts)}\n}\n`, handlers: order };
}

export interface RestoreOutput {
  /** No journal of this run on the host (or nothing recorded in it). */
  noJournal: boolean;
  locked: boolean;
  restored: string[];
  removed: string[];
  failed: string[];
  /** Every recorded path was put back. */
  filesBack: boolean | null;
  handlers: HandlerOutcome[];
  done: boolean;
}

export function parseRestoreOutput(stdout: string, nonce: string, handlers: readonly string[]): RestoreOutput {
  const marker = `@@${nonce} `;
  const out: RestoreOutput = { noJournal: false, locked: false, restored: [], removed: [], failed: [], filesBack: null, handlers: [], done: false };
  const lines = stdout.split('\n');
  lines.forEach((line, i) => {
    if (!line.startsWith(marker)) return;
    const rest = line.slice(marker.length);
    const word = rest.split(' ')[0]!;
    const arg = rest.slice(word.length + 1);
    if (word === 'nojournal') out.noJournal = true;
    else if (word === 'locked' || word === 'lockerror') out.locked = true;
    else if (word === 'restored') out.restored.push(arg);
    else if (word === 'removed') out.removed.push(arg);
    else if (word === 'rfailed') out.failed.push(arg);
    else if (word === 'rdone') out.filesBack = arg === 'ok';
    else if (word === 'hok') out.handlers.push({ name: handlers[Number(arg)] ?? arg, status: 'changed' });
    else if (word === 'hfailed') {
      const error = Buffer.from(lines[i + 1] ?? '', 'base64').toString('utf8').trim();
      out.handlers.push({ name: handlers[Number(arg)] ?? arg, status: 'failed', error });
    } else if (word === 'done') out.done = true;
  });
  return out;
}

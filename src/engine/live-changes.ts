/**
 * File changes applied live: a file whose change is confined to lines that another step
 * applies to the running service itself (HAProxy's `set server` through the admin socket)
 * is written as usual (staged, validated, atomic) but its handlers are NOT notified when
 * that step succeeds live in the same apply exec. Otherwise (the live step fails, is not
 * reached, or needs its own reload) the file's handlers are notified as for any change:
 * config and runtime never disagree.
 *
 * A file step opts in with `live_by: <name of the live step>`; the live step's type says
 * which parts of the file it applies (`liveMask`). Pure: the diff side marks changes, the
 * script side returns the sh lines apply-script.ts places around the steps' `_run`.
 */
import { asText } from '../resources/file-common.js';
import { joinSh, sh, shVar, type Sh } from '../resources/sh.js';
import type { Change, Facts } from '../resources/types.js';
import type { HostJob, ResolvedStep } from './types.js';

/** The step type says whether a step's file is applied live, and by which step. */
const liveBy = (s: ResolvedStep): string | undefined => s.type.liveBy?.(s.spec);

/** Why a `live_by` step's change is not applied live, or null when it is. */
function notLive(job: HostJob, step: ResolvedStep, change: Change, facts: Facts, changed: Set<number>): string | null {
  const live = job.steps.find((s) => s.name === liveBy(step));
  if (!live?.type.liveMask) return 'no such step with a live mask';
  if (live.index < step.index) return 'the live step runs before the file is written';
  // The live step must run in this apply: it is what applies the new values.
  if (!changed.has(live.index)) return 'the running service needs no runtime change';
  if (change.action !== 'update' || change.attrs.length || !change.content) return 'not a content-only update';
  const path = change.content.path;
  const before = facts.content.get(path);
  // The file step's type says what it installs (templates reduce to a ManagedFile).
  const after = step.type.managedFile?.(change)?.content;
  const oldText = before ? asText(before) : null;
  const newText = after ? asText(after) : null;
  if (oldText === null || newText === null) return 'content not comparable';
  const mask = (t: string) => live.type.liveMask!(live.spec, path, t);
  const a = mask(oldText);
  return a !== null && a === mask(newText) ? null : 'lines other than the live ones differ';
}

/** The changes with `live` set on file changes that the named step applies live. */
export function markLive(job: HostJob, facts: Facts, changes: Change[]): Change[] {
  const changed = new Set(changes.map((c) => c.step));
  const byIndex = new Map(job.steps.map((s) => [s.index, s]));
  return changes.map((c) => {
    const step = byIndex.get(c.step);
    if (!step || !liveBy(step) || notLive(job, step, c, facts, changed)) return c;
    const live = job.steps.find((s) => s.name === liveBy(step))!;
    return { ...c, live: { by: live.index, name: live.name }, reason: `${c.reason}: only lines applied live by "${live.name}" (no reload if it succeeds)` };
  });
}

/** sh variable that is 1 while the live file step's notification is deferred. */
export const liveFlag = (step: number): Sh => shVar(`_L${step}`);

export interface LiveWiring {
  /** Steps whose notification is deferred: step index -> the sh that defers it. */
  deferred: Map<number, Sh>;
  /** Live steps: their index -> the files they apply (for ScriptContext.liveFiles) and the sh run after them. */
  liveSteps: Map<number, { files: { path: string; flag: Sh }[]; after: Sh }>;
  /** Files still deferred when the steps are done: their step indexes, to notify. */
  remaining: number[];
}

export function liveWiring(changes: Change[]): LiveWiring {
  const out: LiveWiring = { deferred: new Map(), liveSteps: new Map(), remaining: [] };
  for (const c of changes) {
    if (!c.live || !c.content) continue;
    const flag = liveFlag(c.step);
    out.deferred.set(c.step, sh`[ "$_N" = 1 ] && ${flag}=1`);
    const l = out.liveSteps.get(c.live.by) ?? { files: [], after: sh`` };
    l.files.push({ path: c.content.path, flag });
    out.liveSteps.set(c.live.by, l);
    out.remaining.push(c.step);
  }
  // Succeeded, and changed nothing that needs its handlers: the files' changes are live.
  for (const l of out.liveSteps.values()) {
    l.after = sh`[ "$_xr" = 0 ] && [ "$_N" = 0 ] && { ${joinSh(l.files.map((f) => sh`${f.flag}=`), sh`; `)}; }`;
  }
  return out;
}

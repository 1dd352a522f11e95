/**
 * The apply exec of one host, live: the script goes out in ONE exec, its framed stdout is
 * parsed as it arrives and each step's and handler's result reaches the reporter at once.
 *
 * Ctrl-C does not cut the apply: the controller drops a stop flag into the script's temp
 * dir with a second exec (the only extra round trip, and only on Ctrl-C); the script sees
 * it before its next step, runs the handlers notified so far, releases the lock and
 * reports the first step it did not start.
 */
import { sh } from '../resources/sh.js';
import type { Connection, ExecResult } from '../transport/connection.js';
import { liveTail } from './apply-tail.js';
import type { ApplyPlan, ScriptText } from './apply-text.js';
import { parseApplyOutput, type ApplyEvent } from './apply-output.js';
import type { HandlerOutcome, HostJob, Reporter, StepOutcome } from './types.js';
import { unstage } from './unstage.js';

export interface ApplyStream {
  job: HostJob;
  conn: Connection;
  script: ApplyPlan;
  /** The script's text, built when the exec asks: held by nothing here. */
  text: ScriptText;
  nonce: string;
  reporter: Reporter;
  signal?: AbortSignal | undefined;
  /** The host's outcomes by step index: updated in place as results arrive. */
  byIndex: Map<number, StepOutcome>;
  /** Counts the execs spent (the stop flag is one more). */
  countExec(): void;
}

export interface Streamed {
  res: ExecResult;
  handlers: HandlerOutcome[];
}

/** Runs the apply script; outcomes are updated in place, handlers returned in run order. */
export async function streamApply(a: ApplyStream): Promise<Streamed> {
  const handlers: HandlerOutcome[] = [];
  const onEvent = eventSink(a, handlers);
  const stop = stopFlag(a);
  const reported = new Set<string>();
  // The output not yet parsed for good (see liveTail), never all of it.
  let tail = '';
  const emit = (stdout: string) => {
    const seen = parseApplyOutput(stdout, a.nonce);
    if (seen.tempDir) stop.knowTempDir(seen.tempDir);
    for (const ev of seen.events) {
      const key = `${ev.type} ${ev.index}`;
      if (reported.has(key)) continue;
      reported.add(key);
      onEvent(ev);
    }
  };
  a.countExec();
  const res = await startExec(a, (chunk) => {
    tail += chunk;
    if (!chunk.includes('\n')) return;
    emit(tail);
    tail = liveTail(tail, a.nonce);
  }).finally(stop.forget);
  emit(res.stdout);
  return { res, handlers };
}

/** The text is built once the session is open when the connection can (execDeferred). */
function startExec(a: ApplyStream, onStdout: (chunk: string) => void): Promise<ExecResult> {
  const options = { sudo: a.job.sudo, ...(a.script.payloads.length ? { payloads: a.script.payloads } : {}), onStdout };
  return a.conn.execDeferred ? a.conn.execDeferred(() => a.text.build(), options) : a.conn.exec(a.text.build(), options);
}

/** One apply event to the reporter: a step begins, a step or a handler ends. */
function eventSink(a: ApplyStream, handlers: HandlerOutcome[]): (ev: ApplyEvent) => void {
  return (ev) => {
    if (ev.type === 'begin') {
      const o = a.byIndex.get(ev.index);
      if (o) a.reporter.stepStart?.(a.job.name, o);
      return;
    }
    if (ev.type === 'hok' || ev.type === 'hchanged' || ev.type === 'hfailed') {
      // `ok`: it ran and had nothing to do (a reload made redundant by a restart).
      const h: HandlerOutcome = { name: a.script.handlers[ev.index]!, status: ev.type === 'hok' ? 'ok' : ev.type === 'hchanged' ? 'changed' : 'failed' };
      if (ev.output) h.error = ev.output.trim();
      handlers.push(h);
      a.reporter.handlerDone(a.job.name, h);
      return;
    }
    const o = a.byIndex.get(ev.index);
    if (!o) return;
    o.status = ev.type === 'failed' ? 'failed' : ev.type === 'changed' ? 'changed' : 'ok';
    if (ev.type === 'ok') o.reason = 'nothing left to do when it ran (its own re-check on the host)';
    if (ev.type === 'failed') o.error = unstage((ev.output ?? '').trim(), a.nonce) || `exit code ${ev.rc}`;
    a.reporter.stepDone(a.job.name, o);
  };
}

/**
 * The stop flag: sent once, when both the abort has happened and the script has said
 * where its temp dir is (whichever comes second sends it).
 */
function stopFlag(a: ApplyStream): { knowTempDir(dir: string): void; forget(): void } {
  let tempDir: string | null = null;
  let sent = false;
  const send = () => {
    if (sent || !tempDir || !a.signal?.aborted) return;
    sent = true;
    a.countExec();
    void a.conn.exec(sh`: > ${`${tempDir}/stop`}`.text, { sudo: a.job.sudo }).catch(() => undefined);
  };
  a.signal?.addEventListener('abort', send, { once: true });
  return {
    knowTempDir(dir) {
      if (tempDir) return;
      tempDir = dir;
      send();
    },
    forget: () => a.signal?.removeEventListener('abort', send),
  };
}

/**
 * Saved plans, engine side (pure). A host's plan holds a digest of every fact of its
 * probe (what its changes were computed from) and a digest of every step's desired
 * state (what the apply would write). Applying a plan:
 *   - every step digest must match the re-rendered steps (else the whole run is refused:
 *     the code or the vars changed since the plan);
 *   - the apply's own probe (its first exec) must give the same fact digests (else that
 *     host is refused as stale, naming the facts that differ: kind and path or name);
 *   - inside the apply exec, under the lock, the same probe runs again and its SHA-256
 *     must equal the controller's probe output: nothing changed between the two execs.
 * The apt lists' age is left out of both: it grows by itself.
 */
import { createHash } from 'node:crypto';
import { parseProbe, planProbe, probeScript } from '../resources/facts/index.js';
import { joinSh, sh, type Sh } from '../resources/sh.js';
import { factRequests } from './host-run.js';
import type { HostJob } from './types.js';

/**
 * Facts that change by themselves, left out of plans and of the check inside the apply:
 * the apt lists' age, and HAProxy's live runtime state (`haproxy`, `haproxyProc`: server
 * states and processes, issue 12's runtime facts) when the probe collects it.
 */
const VOLATILE = new Set(['aptLists', 'haproxy', 'haproxyProc']);

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with Maps as entry lists and byte contents as their SHA-256 (stable, no content). */
function stableJson(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v: unknown) => {
      if (v instanceof Map) return [...v.entries()];
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
        return { sha256: sha256(Buffer.from((v as { data: number[] }).data)) };
      }
      return v;
    }) ?? 'null'
  );
}

/**
 * Digest of every fact of a probe, keyed `kind key` (`sha256 /etc/haproxy/haproxy.cfg`,
 * `unit haproxy.service`): what a host's changes were computed from. The apt lists' age
 * is left out (it grows by itself); old contents are digested, never stored.
 */
export function factDigests(job: HostJob, withContent: boolean, stdout: string, nonce: string): Record<string, string> {
  const facts = parseProbe(planProbe(factRequests(job, withContent)), stdout, nonce);
  const out: Record<string, string> = {};
  for (const [kind, v] of Object.entries(facts)) {
    if (!(v instanceof Map) || VOLATILE.has(kind)) continue;
    for (const [key, value] of v as Map<string, unknown>) out[`${kind} ${key}`] = sha256(stableJson(value));
  }
  return out;
}

/** Facts that differ between the plan and now (those both probes collected). */
export function staleFacts(planned: Record<string, string>, now: Record<string, string>): string[] {
  return Object.keys(planned).filter((k) => k in now && planned[k] !== now[k]);
}

/** A step's desired state as a digest: its spec with every byte content replaced by its SHA-256. */
export function stepDigest(spec: unknown): string {
  const json = JSON.stringify(spec, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return { sha256: sha256(Buffer.from((v as { data: number[] }).data)) };
    }
    return v;
  });
  return sha256(json ?? 'null');
}

/** The stdout of `probeScript` without its volatile sections, as the host will reproduce it. */
export function stableProbeOutput(stdout: string, nonce: string): string {
  let out = stdout;
  for (const kind of VOLATILE) {
    const head = `\n@@${nonce} ${kind}\n`;
    const at = out.indexOf(head);
    if (at < 0) continue;
    const next = out.indexOf(`\n@@${nonce} `, at + head.length);
    out = out.slice(0, at) + (next < 0 ? '' : out.slice(next));
  }
  return out;
}

/**
 * The sh lines the apply script runs under its lock, before any step: the probe again
 * (same requests and nonce, volatile kinds left out), compared with what the controller
 * saw; on a difference it prints `stale` and exits 76 having changed nothing.
 */
export function inApplyGuard(job: HostJob, withContent: boolean, nonce: string, probeStdout: string): Sh {
  const reqs = factRequests(job, withContent).filter((r) => !VOLATILE.has(r.kind));
  const script = probeScript(planProbe(reqs), nonce);
  const expected = sha256(stableProbeOutput(probeStdout, nonce));
  return joinSh([
    sh`_fp=$( (\n${script}\n) 9>&- | sha256sum)`,
    sh`if [ "\${_fp%% *}" != ${expected} ]; then printf '%s stale\\n' "$_M"; exit 76; fi`,
  ]);
}

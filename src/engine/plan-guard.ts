/**
 * Saved plans, engine side (pure). A host's plan holds digests of its probe output per
 * fact kind (what its changes were computed from) and a digest of every step's desired
 * state (what the apply would write). Applying a plan:
 *   - every step digest must match the re-rendered steps (else the whole run is refused:
 *     the code or the vars changed since the plan);
 *   - the apply's own probe (its first exec) must give the same fact digests (else that
 *     host is refused as stale, naming the kinds and paths that differ);
 *   - inside the apply exec, under the lock, the same probe runs again and its SHA-256
 *     must equal the controller's probe output: nothing changed between the two execs.
 * `aptLists` (an age in seconds) and `content` (old file texts, for --diff) are left out:
 * the first changes by itself, the second is covered by `sha256`.
 */
import { createHash } from 'node:crypto';
import { planProbe, probeScript } from '../resources/facts/index.js';
import { quote } from '../resources/sh.js';
import { factRequests } from './host-run.js';
import type { HostJob } from './types.js';

const VOLATILE = new Set(['aptLists', 'content']);

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Probe output cut into its sections: kind -> body. */
export function probeSections(stdout: string, nonce: string): Map<string, string> {
  const marker = `@@${nonce}`;
  const out = new Map<string, string>();
  const re = new RegExp(`\\n${marker} (\\w+)\\n`, 'g');
  const heads = [...stdout.matchAll(re)];
  heads.forEach((h, i) => {
    const from = h.index! + h[0].length;
    const to = i + 1 < heads.length ? heads[i + 1]!.index! : stdout.length;
    out.set(h[1]!, stdout.slice(from, to));
  });
  return out;
}

/** Digest of each stable fact kind of a probe's output. */
export function factDigests(stdout: string, nonce: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [kind, body] of probeSections(stdout, nonce)) if (!VOLATILE.has(kind) && kind !== 'end') out[kind] = sha256(body);
  return out;
}

/** Fact kinds whose digests differ between the plan and now (kinds in the plan only). */
export function staleKinds(planned: Record<string, string>, now: Record<string, string>): string[] {
  return Object.keys(planned).filter((k) => planned[k] !== now[k]);
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
export function inApplyGuard(job: HostJob, withContent: boolean, nonce: string, probeStdout: string): string {
  const reqs = factRequests(job, withContent).filter((r) => !VOLATILE.has(r.kind));
  const script = probeScript(planProbe(reqs), nonce);
  const expected = sha256(stableProbeOutput(probeStdout, nonce));
  return [
    `_fp=$( (\n${script}\n) 9>&- | sha256sum)`,
    `if [ "${'$'}{_fp%% *}" != ${quote(expected)} ]; then printf '%s stale\\n' "$_M"; exit 76; fi`,
  ].join('\n');
}

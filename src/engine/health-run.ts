/**
 * Runs a host's gates: the host-side ones in ONE exec (each retried on the host), the
 * controller-side ones from here, at the same time. Results keep the declared order.
 */
import type { Connection } from '../transport/connection.js';
import { runControllerGate } from './health-controller.js';
import { hostGatesScript, parseGateOutput } from './health-script.js';
import type { Gate, GateResult } from './health.js';
import { newNonce } from './host-run.js';

export interface GateRun {
  results: GateResult[];
  /** Remote execs spent (0 or 1). */
  execs: number;
}

/** Host-side gate results from a script's output, with a failed result for any gate it never reached. */
export function hostResults(gates: readonly Gate[], stdout: string, nonce: string, why: string): Map<number, GateResult> {
  const found = parseGateOutput(stdout, nonce, gates);
  gates.forEach((g, i) => {
    if (g.from === 'host' && !found.has(i)) found.set(i, { name: g.name, from: 'host', passed: false, attempts: 0, durationMs: 0, detail: why });
  });
  return found;
}

export async function runGates(gates: readonly Gate[], conn: Connection | null, sudo: boolean, signal?: AbortSignal): Promise<GateRun> {
  const onHost = gates.some((g) => g.from === 'host');
  const hostRun = async (): Promise<Map<number, GateResult>> => {
    if (!onHost) return new Map();
    if (!conn) return hostResults(gates, '', '', 'no connection to the host');
    const nonce = newNonce();
    const res = await conn.exec(hostGatesScript(gates, nonce).text, { sudo });
    const why = res.connectionLost ? 'connection lost' : `gate script ended early (exit ${res.exitCode}): ${res.stderr.trim().split('\n')[0] ?? ''}`;
    return hostResults(gates, res.stdout, nonce, why);
  };
  const [host, ctl] = await Promise.all([
    hostRun(),
    Promise.all(gates.map((g) => (g.from === 'controller' ? runControllerGate(g, signal) : null))),
  ]);
  const results = gates.map((g, i) => (g.from === 'host' ? host.get(i)! : ctl[i]!));
  return { results, execs: onHost && conn ? 1 : 0 };
}

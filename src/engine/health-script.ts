/**
 * Gates checked on the host, as one POSIX sh snippet (pure) and the parser of its framed
 * output. Every host-side gate of a host runs in the same exec, one after another, each
 * with its own retry loop on the host (no round trip per attempt). Time is read from
 * /proc/uptime with the `read` builtin: no process per measurement.
 *   http     curl (status with -w, the body matched with grep -E: POSIX ERE)
 *   tcp      bash's /dev/tcp under `timeout`
 *   command  sh -c under `timeout` (what is left of the deadline); exit 0 passes
 */
import { markerVar, SCRIPT_ENV } from '../resources/facts/index.js';
import { joinSh, rawSh, sh, type Sh } from '../resources/sh.js';
import { shLibrary } from '../resources/sh-lib.js';
import type { Gate, GateResult } from './health.js';

const GATE_LIB = shLibrary('gate');

function seconds(n: number): string {
  return String(Math.max(1, Math.ceil(n)));
}

function gateBody(g: Gate): Sh {
  const c = g.check;
  if (c.kind === 'http') {
    const body = c.body === undefined
      ? sh``
      : sh`\ngrep -Eq -e ${c.body} "$_G/b" || { echo "status $_code, body does not match /"${c.body}"/"; return 1; }`;
    return joinSh([
      sh`_code=$(curl -sS -o "$_G/b" -w '%{http_code}' --max-time ${seconds(c.timeoutS)} -- ${c.url}) || return 1`,
      sh`[ "$_code" = ${c.status} ] || { echo "status $_code, expected ${c.status}"; return 1; }${body}`,
      sh`echo "status $_code"`,
    ]);
  }
  if (c.kind === 'tcp') {
    return sh`timeout ${seconds(c.timeoutS)} bash -c ': < "/dev/tcp/$1/$2"' _ ${c.address} ${c.port} 2>/dev/null || { echo "no connection to "${`${c.address}:${c.port}`}; return 1; }\necho connected`;
  }
  // The user's command is one quoted argument of `sh -c`: the shell there runs it.
  return sh`timeout -k 2 "$1" sh -c ${c.command}`;
}

/** The snippet running `gates` (indexes are positions in `all`); needs `_M` and `_G`. */
export function gateSnippet(all: readonly Gate[], only: (g: Gate) => boolean = (g) => g.from === 'host'): Sh {
  const parts = [rawSh(GATE_LIB, 'the gates sh library')];
  all.forEach((g, i) => {
    if (!only(g)) return;
    const interval = Math.max(0, g.intervalS);
    parts.push(sh`_g() {\n${gateBody(g)}\n}\n_gate ${i} ${g.retries} ${interval} ${Math.round(interval * 100)} ${Math.round(g.deadlineS * 100)}`);
  });
  return joinSh(parts);
}

/** A whole script running the host-side gates of `gates` (for `provision health` and after an apply). */
export function hostGatesScript(gates: readonly Gate[], nonce: string): Sh {
  return joinSh([
    sh`{`,
    SCRIPT_ENV,
    markerVar(nonce),
    sh`_G=$(mktemp -d /tmp/.provision-gates.XXXXXX) || exit 70`,
    sh`trap 'rm -rf -- "$_G"' EXIT`,
    gateSnippet(gates),
    sh`}`,
  ]);
}

/** Results of the host-side gates; a gate with no line (the script was cut) failed. */
export function parseGateOutput(stdout: string, nonce: string, gates: readonly Gate[]): Map<number, GateResult> {
  const marker = `@@${nonce} gate `;
  const out = new Map<number, GateResult>();
  const lines = stdout.split('\n');
  lines.forEach((line, i) => {
    if (!line.startsWith(marker)) return;
    const [index, res, attempts, cs] = line.slice(marker.length).split(' ');
    const gate = gates[Number(index)];
    if (!gate) return;
    const detail = Buffer.from(lines[i + 1] ?? '', 'base64').toString('utf8').trim().split('\n').slice(-3).join(' | ');
    out.set(Number(index), { name: gate.name, from: 'host', passed: res === 'pass', attempts: Number(attempts), durationMs: Number(cs) * 10, detail });
  });
  return out;
}

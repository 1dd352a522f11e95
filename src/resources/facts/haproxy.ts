/**
 * HAProxy's running state, read through its admin socket in the probe: `show servers
 * state` (every server's address, port, weights and admin state as the process holds
 * them) and `show backend` (the backends it loaded). Two `socat` processes per socket; a
 * socket that is missing or does not answer (HAProxy stopped, socat not installed yet)
 * gives null: the `service` step reports a stopped unit, this fact only describes a
 * running one.
 */
import { joinSh, sh } from '../sh.js';
import { parseBackendList, parseServerState, type ServerState } from '../haproxy/server-state.js';
import { parseShowProc, type ProcInfo } from '../haproxy/show-proc.js';
import type { FactCollector } from './types.js';

export interface HaproxyRuntime {
  servers: ServerState[];
  backends: string[];
}

const ASK = sh`_hp() { printf '%s\\n' "$2" | socat -t5 stdio "UNIX-CONNECT:$1"; }`;

export const haproxyCollector: FactCollector<HaproxyRuntime | null> = {
  kind: 'haproxy',
  script: (keys) =>
    joinSh([
      ASK,
      ...keys.map((k) => {
        return sh`printf '%s\\0' ${k}; if _s=$(_hp ${k} 'show servers state') && _b=$(_hp ${k} 'show backend'); then printf 'up\\0%s\\0%s\\0' "$_s" "$_b"; else printf 'down\\0\\0\\0'; fi`;
      }),
    ]),
  parse(output, keys) {
    const out = new Map<string, HaproxyRuntime | null>(keys.map((k) => [k, null]));
    const parts = output.split('\0');
    for (let i = 0; i + 3 < parts.length; i += 4) {
      const key = parts[i]!.replace(/^\n/, '');
      if (!out.has(key) || parts[i + 1] !== 'up') continue;
      out.set(key, { servers: parseServerState(parts[i + 2]!), backends: parseBackendList(parts[i + 3]!) });
    }
    return out;
  },
};

/**
 * The master CLI's `show proc` with the host clock (`date +%s`) before it, for the
 * "reload pending" / "restart pending" comparison with file modification times.
 */
export const haproxyProcCollector: FactCollector<ProcInfo | null> = {
  kind: 'haproxyProc',
  script: (keys) =>
    joinSh(
      keys.map((k) => sh`printf '%s\\0' ${k}; date +%s; printf 'show proc\\n' | socat -t5 stdio ${`UNIX-CONNECT:${k}`}; printf '\\0'`),
    ),
  parse(output, keys) {
    const out = new Map<string, ProcInfo | null>(keys.map((k) => [k, null]));
    const parts = output.split('\0');
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const key = parts[i]!.replace(/^\n/, '');
      if (out.has(key)) out.set(key, parseShowProc(parts[i + 1]!));
    }
    return out;
  },
};

/**
 * HAProxy's server-state format, version 1: what `show servers state` prints on the admin
 * socket and what the drop-in saves to the `server-state-file` before each reload (the
 * same bytes). Line 1 is the version, line 2 the `#` header, then one line per server,
 * fields separated by single spaces. Pure; tested against recorded HAProxy 2.6 output.
 * What HAProxy does with each field on load is in docs/haproxy-server-state.md.
 */

/** Admin-state bits (include/haproxy/server-t.h, 2.6). */
export const ADMF = {
  FMAINT: 0x01, // forced into maintenance (CLI `set server ... state maint`, or `disabled`)
  IMAINT: 0x02, // inherited from a tracked server
  CMAINT: 0x04, // `disabled` in the configuration
  FDRAIN: 0x08, // forced drain (CLI `state drain`, or weight 0 in the configuration)
  IDRAIN: 0x10, // inherited drain
  RMAINT: 0x20, // unresolved address (DNS), or an unused server-template slot
  MAINT: 0x23, // any maintenance, CMAINT excepted
  DRAIN: 0x18, // any drain
} as const;

export interface ServerState {
  backend: string;
  server: string;
  addr: string;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  opState: number;
  admin: number;
  /** Running weight (set by the CLI or restored from the state file). */
  uweight: number;
  /** Weight from the configuration the process loaded. */
  iweight: number;
  /** `-` when none. */
  fqdn: string;
  port: number;
  /** `-` when the server is not from a server-template with an SRV record. */
  srvrecord: string;
}

export type AdminLabel = 'ready' | 'drain' | 'maint';

/** The admin state as operators name it: maintenance wins over drain (server-t.h). */
export function adminLabel(admin: number): AdminLabel {
  if (admin & ADMF.MAINT) return 'maint';
  if (admin & ADMF.DRAIN) return 'drain';
  return 'ready';
}

/**
 * Parses `show servers state` output or a saved state file. Lines that are not server
 * lines (version, header, blanks, a truncated tail) are skipped; an empty list means no
 * server (or no output).
 */
export function parseServerState(text: string): ServerState[] {
  const out: ServerState[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.trim().split(/[ \t]+/);
    if (f.length < 20 || !/^\d+$/.test(f[0]!)) continue;
    out.push({
      backend: f[1]!,
      server: f[3]!,
      addr: f[4]!,
      opState: Number(f[5]),
      admin: Number(f[6]),
      uweight: Number(f[7]),
      iweight: Number(f[8]),
      fqdn: f[17]!,
      port: Number(f[18]),
      srvrecord: f[19]!,
    });
  }
  return out;
}

/** `show backend` output: one backend name a line after the `# name` header. */
export function parseBackendList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/**
 * Guard commands (`command` steps' `unless`): each runs in its own subshell with stdin from
 * /dev/null and output discarded; only the exit code is kept. Keys are opaque ids; the
 * scripts arrive through `registerShellGuard` because a key cannot carry a script.
 */
import { joinSh, sh, type Sh } from '../sh.js';
import type { FactCollector, ShellResult } from './types.js';

export function shellGuardScript(guards: { id: string; script: Sh }[]): Sh {
  return joinSh(guards.map((g) => sh`( ${g.script}\n) </dev/null >/dev/null 2>&1; printf '%s %s\\n' ${g.id} "$?"`));
}

export const shellCollector: Pick<FactCollector<ShellResult>, 'parse'> = {
  parse(output, keys) {
    const out = new Map<string, ShellResult>();
    for (const line of output.split('\n')) {
      const m = /^(\S+) (\d+)$/.exec(line);
      if (m && keys.includes(m[1]!)) out.set(m[1]!, { exitCode: Number(m[2]) });
    }
    return out;
  },
};

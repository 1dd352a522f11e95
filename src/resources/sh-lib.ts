/**
 * The remote sh library: real `.sh` files in the package's `sh/` folder (shipped by
 * package.json "files", checked by shellcheck in test/unit/sh/), read once when this
 * module loads. `src/` and `dist/` sit at the same depth, so the same relative URL finds
 * `sh/` from a clone (tsx, vitest) and from an installed package (dist/).
 *
 *   lib.sh      what every apply and restore script starts with (`_put`, `_dir`, ...)
 *   run.sh      the apply script's step and handler runners (`_run`, `_runh`)
 *   lock.sh     the apply lock's holder checks (`_lockstate`, `_breaklock`)
 *   journal.sh  the apply's restore journal (`_jinit`, the real `_jsave`)
 *   restore.sh  the restore script's `_restore` and `_rh`
 *   gate.sh     the host-side health gates' loop (`_gate`)
 *
 * See docs/remote-sh.md for what each function guarantees.
 */
import { readFileSync } from 'node:fs';

const SH_DIR = new URL('../../sh/', import.meta.url);

/**
 * The text of `sh/NAME.sh` as it is sent to hosts: full-line comments dropped (they are
 * for readers of the file and shellcheck's directives; every apply would carry them
 * otherwise). A library file must therefore never hold a line starting with `#` inside
 * a multi-line quoted string (test/unit/sh/ checks the stripped text still parses).
 */
export function shLibrary(name: string): string {
  const text = readFileSync(new URL(`${name}.sh`, SH_DIR), 'utf8');
  return `\n${text.replace(/^[ \t]*#.*\n/gm, '')}`;
}

/**
 * The functions every apply script starts with. Step fragments call them instead of
 * repeating the same guarded logic; every function re-checks the host's state before
 * acting (the plan may be stale) and calls `_changed` only when it changed something.
 * All arguments are quoted by the generators (see sh.ts).
 */
export const SH_LIB = shLibrary('lib');

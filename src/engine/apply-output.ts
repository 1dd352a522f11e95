/**
 * Pure parser of the apply script's framed stdout. Works on partial output too (live
 * progress, and a connection lost mid-apply: `running` names the step that was cut).
 */
export interface ApplyEvent {
  type: 'begin' | 'ok' | 'changed' | 'failed' | 'hok' | 'hchanged' | 'hfailed';
  index: number;
  rc?: number;
  output?: string;
}

export interface ApplyOutput {
  /** The holder line of a lock that another run holds. */
  locked: string | null;
  /** `live`, or `stale: why` (the holder's process or its controller is gone). */
  lockState: string | null;
  /** The holder line of a stale lock that this run broke (`--break-lock`). */
  broke: string | null;
  /** The signal that stopped the broken lock's holder: TERM (it cleaned up after itself) or KILL. */
  brokeBy: string | null;
  /** The script's private temp dir (`$_T`), where the controller drops the stop flag. */
  tempDir: string | null;
  /** Step index that was about to start when the script saw the stop flag. */
  stopped: number | null;
  lockError: boolean;
  started: boolean;
  events: ApplyEvent[];
  /** Step index that began and has no result yet. */
  running: number | null;
  done: boolean;
}

function emptyOutput(): ApplyOutput {
  return { locked: null, lockState: null, broke: null, brokeBy: null, tempDir: null, stopped: null, lockError: false, started: false, events: [], running: null, done: false };
}

/** The holder's lines between `locked` (at line i) and `lockend`, which carries the lock's state. */
function readLocked(out: ApplyOutput, lines: string[], i: number, marker: string): ApplyOutput {
  const end = lines.findIndex((l, j) => j > i && l.startsWith(`${marker}lockend`));
  out.locked = lines.slice(i + 1, end < 0 ? undefined : end).join('\n').trim() || 'another provision run (no details recorded)';
  if (end >= 0) out.lockState = lines[end]!.slice(`${marker}lockend`.length).trim() || null;
  return out;
}

export function parseApplyOutput(stdout: string, nonce: string): ApplyOutput {
  const marker = `@@${nonce} `;
  const out = emptyOutput();
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.startsWith(marker)) continue;
    const [word, a, b] = line.slice(marker.length).split(' ');
    switch (word) {
      case 'locked':
        return readLocked(out, lines, i, marker);
      case 'broke':
        out.broke = line.slice(`${marker}broke `.length).trim();
        break;
      case 'brokeby':
        out.brokeBy = a ?? null;
        break;
      case 'lockerror':
        out.lockError = true;
        return out;
      case 'start':
        out.started = true;
        // Only ever a mktemp path under /tmp; anything else is ignored.
        if (a && /^\/tmp\/\.provision-[0-9a-f]+\.[A-Za-z0-9]+$/.test(a)) out.tempDir = a;
        break;
      case 'stopped':
        out.stopped = Number(a);
        break;
      case 'begin':
        out.running = Number(a);
        out.events.push({ type: 'begin', index: Number(a) });
        break;
      case 'ok':
      case 'changed':
      case 'hok':
      case 'hchanged':
        out.events.push({ type: word, index: Number(a) });
        if (word !== 'hok' && word !== 'hchanged') out.running = null;
        break;
      case 'failed':
      case 'hfailed': {
        const encoded = lines[i + 1];
        // The encoded output is complete only once its line is terminated.
        if (encoded === undefined || i + 2 >= lines.length) break;
        out.events.push({ type: word, index: Number(a), rc: Number(b), output: Buffer.from(encoded, 'base64').toString('utf8') });
        if (word === 'failed') out.running = null;
        i++;
        break;
      }
      case 'done':
        out.done = true;
        break;
    }
  }
  return out;
}

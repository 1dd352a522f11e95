/**
 * Writes an exec's stdin (the encoded script, then any payloads) in bounded chunks,
 * honouring the channel's backpressure: after a `write()` that returns false nothing more
 * is queued until 'drain'. For an ssh2 channel that is the SSH window the host grants
 * (2 MiB for OpenSSH; ssh2 does not pass on the TCP socket's own backpressure), so a
 * script of tens of KiB goes out at once, and payloads of many MiB are queued about a
 * window at a time instead of all at once.
 *
 * The chunks are views of the encoded script and of the payloads (no copies, no framed
 * concatenation): a payload shared by every host is never copied per host.
 */
import type { Writable } from 'node:stream';

/** Bytes per write: two ssh2 packets' worth, small beside a script of tens of KiB. */
export const STDIN_CHUNK_BYTES = 64 * 1024;

/** The part of a Writable the writer needs (an ssh2 ClientChannel is one). */
export type StdinSink = Pick<Writable, 'write' | 'end' | 'once' | 'removeListener' | 'destroyed' | 'writableEnded'>;

/**
 * Writes `parts` in chunks of at most `chunkBytes` (views, not copies), then ends the
 * stream. Resolves when everything is queued, or early (without throwing) when the stream
 * closes or errors first: the exec's own close and error handling report that. Each part
 * is let go once queued: the script's bytes need not live while the payloads are written.
 */
export async function writeStdin(sink: StdinSink, parts: Buffer[], chunkBytes = STDIN_CHUNK_BYTES): Promise<void> {
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    parts[p] = EMPTY;
    for (let at = 0; at < part.length; at += chunkBytes) {
      if (sink.destroyed || sink.writableEnded) return;
      if (!sink.write(part.subarray(at, at + chunkBytes)) && !(await drained(sink))) return;
    }
  }
  if (!sink.destroyed && !sink.writableEnded) sink.end();
}

const EMPTY = Buffer.alloc(0);

/** True on 'drain'; false when the stream closed or failed instead (nothing more to write). */
function drained(sink: StdinSink): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      sink.removeListener('drain', onDrain);
      sink.removeListener('close', onClose);
      sink.removeListener('error', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    sink.once('drain', onDrain);
    sink.once('close', onClose);
    sink.once('error', onClose);
  });
}

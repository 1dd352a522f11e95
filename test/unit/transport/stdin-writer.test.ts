/**
 * The exec's stdin writer: bounded chunks, and nothing more queued after a write() that
 * returned false until the stream drained (the channel's backpressure).
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeStdin } from '../../../src/transport/stdin-writer.js';

/** A slow sink: each chunk is consumed on a later turn; records what the writer did. */
class SlowSink extends Writable {
  received: Buffer[] = [];
  /** write() calls made while the stream was asking the writer to wait for 'drain'. */
  writesWhileFull = 0;
  maxBuffered = 0;
  constructor(highWaterMark: number) {
    super({ highWaterMark });
  }
  override write(chunk: Buffer): boolean {
    if (this.writableNeedDrain) this.writesWhileFull++;
    const ok = super.write(chunk);
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    return ok;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error) => void): void {
    this.received.push(Buffer.from(chunk));
    setImmediate(cb);
  }
}

function finished(sink: Writable): Promise<void> {
  return new Promise((resolve) => sink.once('finish', () => resolve()));
}

describe('writeStdin', () => {
  it('writes the parts in order, in chunks no larger than the bound, waiting for drain after a full write', async () => {
    const sink = new SlowSink(1000);
    const script = Buffer.from(`${'echo é\n'.repeat(3000)}`, 'utf8');
    const payload = randomBytes(50_000);
    const parts = [Buffer.from('21000\n'), script, payload];
    const expected = Buffer.concat(parts);
    const done = finished(sink);
    await writeStdin(sink, parts, 4096);
    await done;
    expect(Buffer.concat(sink.received).equals(expected)).toBe(true);
    expect(Math.max(...sink.received.map((c) => c.length))).toBeLessThanOrEqual(4096);
    // Every write after the first of a full buffer waited for 'drain': the stream never
    // held more than one chunk beyond its high-water mark.
    expect(sink.writesWhileFull).toBe(0);
    expect(sink.maxBuffered).toBeLessThanOrEqual(1000 + 4096);
    expect(sink.received.length).toBeGreaterThan(expected.length / 4096);
  });

  it('lets go of each part once it is queued (the script need not live while payloads are written)', async () => {
    const sink = new SlowSink(100);
    const parts = [Buffer.from('head\n'), Buffer.alloc(10_000, 0x61), Buffer.alloc(10_000, 0x62)];
    const done = writeStdin(sink, parts, 1024);
    // Synchronously, the first chunk of the head is queued and the head released.
    expect(parts[0]!.length).toBe(0);
    await done;
    expect(parts.every((p) => p.length === 0)).toBe(true);
  });

  it('stops without throwing, and without ending, when the stream is destroyed while waiting', async () => {
    const sink = new SlowSink(10);
    sink.on('error', () => undefined);
    const done = writeStdin(sink, [Buffer.alloc(100_000)], 1024);
    setImmediate(() => sink.destroy());
    await expect(done).resolves.toBeUndefined();
    expect(sink.writableEnded).toBe(false);
    expect(sink.received.length).toBeLessThan(100);
  });
});

/**
 * One persistent HTTP/1.1 connection of the traffic witness, used the way a client with
 * a connection pool uses it: the next request goes out on the open connection without
 * first asking whether the server closed it meanwhile. Over a real network a client
 * cannot know (the FIN is still in flight when it writes), so a server that closes an
 * idle keep-alive connection without having said `Connection: close` loses that client's
 * next request. On the lab's bridge the FIN arrives within microseconds and node's own
 * Agent would notice it first, hiding exactly the loss the witness must see; hence this
 * small client on node:net. A response that says `Connection: close` is honoured: the
 * lane reconnects for its next request, as every client does.
 */
import net from 'node:net';

/**
 * A lane whose previous request was sent this long ago opens a new connection for its
 * next request, as connection pools do, rather than race the server's keep-alive timeout
 * (HAProxy: `timeout http-keep-alive`, by default `timeout http-request`, 10 s in the
 * shipped config). Counted from the previous request's sending, not its answer: the
 * server's idle clock started when it answered, which is no earlier, even when a stalled
 * machine reads that answer seconds late.
 */
export const LANE_IDLE_LIMIT_MS = 4_000;

export interface LaneResult {
  /** null for a 2xx answer read to its end; else `status 503`, `ECONNRESET`, ... */
  cause: string | null;
  /** The request went out on a connection that had served a request before. */
  reused: boolean;
  /** performance.now() when the server closed the idle connection, for such a loss. */
  closedAt?: number;
}

interface Parsed {
  status: number;
  close: boolean;
}

/** Status and `Connection: close` of a complete response in `buf`, or null if incomplete. */
export function parseResponse(buf: string): Parsed | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine = '', ...headers] = buf.slice(0, end).split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const header = (name: string) => headers.find((h) => h.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim().toLowerCase();
  const body = buf.slice(end + 4);
  const length = header('content-length');
  const complete = length !== undefined ? Buffer.byteLength(body) >= Number(length) : header('transfer-encoding') === 'chunked' ? body.endsWith('0\r\n\r\n') : false;
  return complete ? { status, close: header('connection') === 'close' } : null;
}

export class KeepAliveLane {
  busy = false;
  private socket: net.Socket | null = null;
  private served = 0;
  private closedAt: number | undefined;
  private lastSent = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
  ) {}

  /** Sends one GET / on the lane's connection (opening one when there is none). */
  get(): Promise<LaneResult> {
    if (this.socket && performance.now() - this.lastSent > LANE_IDLE_LIMIT_MS) this.drop(this.socket);
    if (this.socket && (this.socket.destroyed || this.socket.readableEnded)) {
      // Closed by the server while idle, without a `Connection: close` before: over a
      // network this request would already be on its way. Counted, then reconnect.
      this.socket = null;
      return Promise.resolve({ cause: 'idle connection closed by the server', reused: true, closedAt: this.closedAt });
    }
    this.busy = true;
    const reused = this.socket !== null && this.served > 0;
    const socket = this.socket ?? this.connect();
    return new Promise<LaneResult>((resolve) => {
      let buf = '';
      const finish = (cause: string | null, keep: boolean) => {
        socket.off('data', onData).off('error', onError).off('close', onClose).off('timeout', onTimeout);
        if (!keep) this.drop(socket);
        this.busy = false;
        resolve({ cause, reused });
      };
      const onData = (chunk: Buffer) => {
        buf += chunk.toString('latin1');
        const r = parseResponse(buf);
        if (!r) return;
        this.served++;
        finish(r.status >= 200 && r.status < 300 ? null : `status ${r.status}`, !r.close);
      };
      const onError = (e: NodeJS.ErrnoException) => finish(e.code ?? e.message, false);
      const onClose = () => finish(buf ? 'closed mid-response' : 'closed without a response', false);
      const onTimeout = () => finish('timeout', false);
      socket.on('data', onData).on('error', onError).on('close', onClose).on('timeout', onTimeout);
      socket.setTimeout(this.timeoutMs);
      this.lastSent = performance.now();
      socket.write(`GET / HTTP/1.1\r\nHost: ${this.host}\r\nUser-Agent: provision-traffic-witness\r\n\r\n`);
    });
  }

  close(): void {
    if (this.socket) this.drop(this.socket);
  }

  private connect(): net.Socket {
    const s = net.connect({ host: this.host, port: this.port });
    // Errors between requests surface on the next write; never as an unhandled event.
    s.on('error', () => {});
    // When the server closes it while idle, the loss belongs to that moment.
    s.on('end', () => (this.closedAt = this.busy ? undefined : performance.now()));
    this.socket = s;
    this.served = 0;
    return s;
  }

  private drop(socket: net.Socket): void {
    socket.destroy();
    if (this.socket === socket) this.socket = null;
  }
}

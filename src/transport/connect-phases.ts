/**
 * Two limits on opening a connection, like OpenSSH: `connect_timeout` covers reaching the
 * host and the key exchange (ssh2 emits 'handshake' when that is done); authentication
 * then gets its own, longer limit. A password that sshd rejects after PAM's delay (2 s
 * or more on a busy host) is then reported as the rejection it is, not as a timeout.
 */
import type { Client } from 'ssh2';
import { ConnectionError } from '../config/errors.js';

/** Default limit for authentication once the key exchange is done (sshd's own LoginGraceTime is 120 s). */
export const DEFAULT_AUTH_TIMEOUT_MS = 60_000;

/** The error ssh2 itself raises when its readyTimeout fires; describeConnectFailure words it. */
function connectTimeout(): Error {
  return Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' });
}

/**
 * Arms the connect timer now and the authentication timer at the handshake. `fail` gets
 * the error when a limit runs out; the returned function disarms whichever is pending.
 */
export function armConnectPhases(
  client: Client,
  limits: { connectTimeoutMs: number; authTimeoutMs: number; label: string; user: string },
  fail: (err: unknown) => void,
): () => void {
  // destroy(), not end(): a server that never answers never closes its side either, and a
  // half-closed socket would keep the process alive.
  let timer = setTimeout(() => {
    client.destroy();
    fail(connectTimeout());
  }, limits.connectTimeoutMs);
  client.once('handshake', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      client.destroy();
      const s = limits.authTimeoutMs / 1000;
      fail(new ConnectionError(`cannot connect to ${limits.label}: authentication of ${limits.user} did not finish within ${Number.isInteger(s) ? s : s.toFixed(1)} s (key exchange done; the server never answered)`));
    }, limits.authTimeoutMs);
  });
  return () => clearTimeout(timer);
}

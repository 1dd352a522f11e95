/**
 * A backend stand-in (a "tomcat"): a tiny node HTTP server in its own namespace on the
 * lab bridge, answering every request on port 8080 with its name and a newline. Runs on
 * the controller (`ip netns exec`), so it costs no container boot.
 */
import { sleep, spawnDetached } from './exec.js';
import { processRunning } from './cleanup.js';

export const BACKEND_PORT = 8080;

// CommonJS on purpose: `node -e` evaluates a script, and the name comes from the environment.
const SERVER_SOURCE = `
const name = process.env.PROVISION_BACKEND_NAME;
require('node:http')
  .createServer((req, res) => { res.setHeader('content-type', 'text/plain'); res.end(name + '\\n'); })
  .listen(${BACKEND_PORT}, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

/** Starts the server inside `netns` (detached, output to `logPath`); returns its pid. */
export async function startBackendServer(name: string, netns: string, logPath: string): Promise<number> {
  // `ip netns exec` execs node in place, so the pid is the server's own.
  return spawnDetached('ip', ['netns', 'exec', netns, process.execPath, '-e', SERVER_SOURCE], logPath, {
    ...process.env,
    PROVISION_BACKEND_NAME: name,
  });
}

/** Polls the backend from the controller until it answers with its name. */
export async function waitForBackend(name: string, address: string, pid: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!processRunning(pid)) throw new Error(`backend ${name}: server process exited`);
    try {
      const res = await fetch(`http://${address}:${BACKEND_PORT}/`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (body === `${name}\n`) return;
      last = `unexpected answer ${JSON.stringify(body)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`backend ${name} (${address}:${BACKEND_PORT}) not answering after ${timeoutMs / 1000} s: ${last}`);
}

export async function stopProcess(pid: number, timeoutMs = 5_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (processRunning(pid) && Date.now() < deadline) await sleep(100);
  if (processRunning(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * The lab network: one bridge per run holding x.y.z.1/24 in the root namespace (so the
 * controller reaches every host), and one network namespace per host or backend joined
 * to it by a veth pair. No forwarding, no NAT: traffic never leaves the lab.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { run } from './exec.js';
import { bridgeNameOf, octetClaimPath, vethNameOf } from './names.js';

export const SUBNET_BASE = '10.213';
const FIRST_OCTET = 20;
const OCTET_COUNT = 200;

/**
 * Picks the third octet for this run: derived from the run id, moved on while the
 * subnet is in use by any interface or route, or claimed by another live run (the claim
 * file is created exclusively, so two runs starting together cannot both take it).
 */
export async function claimSubnetOctet(runId: string): Promise<number> {
  const start = createHash('sha256').update(runId).digest().readUInt32BE(0) % OCTET_COUNT;
  const addrs = (await run('ip', ['-o', '-4', 'addr'])).stdout;
  const routes = (await run('ip', ['-o', '-4', 'route', 'show', 'table', 'all'])).stdout;
  for (let i = 0; i < OCTET_COUNT; i++) {
    const octet = FIRST_OCTET + ((start + i) % OCTET_COUNT);
    const prefix = `${SUBNET_BASE}.${octet}.`;
    if (addrs.includes(prefix) || routes.includes(prefix)) continue;
    try {
      await writeFile(octetClaimPath(octet), `${runId}\n`, { flag: 'wx' });
      return octet;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`no free ${SUBNET_BASE}.X.0/24 subnet for the test lab`);
}

export async function createBridge(runId: string, subnetPrefix: string): Promise<string> {
  const bridge = bridgeNameOf(runId);
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${subnetPrefix}.1/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  return bridge;
}

/**
 * Creates namespace `ns` with `eth0` (the veth peer) at `address`/24 and lo up; the host
 * end `ptv-RUN-INDEX` joins the bridge. Returns the host-side veth name.
 */
export async function createAttachedNamespace(
  runId: string,
  ns: string,
  index: number,
  address: string,
): Promise<string> {
  const veth = vethNameOf(runId, index);
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await run('ip', ['link', 'set', veth, 'master', bridgeNameOf(runId), 'up']);
  await run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return veth;
}

export async function deleteAttachedNamespace(ns: string, veth: string): Promise<void> {
  await run('ip', ['netns', 'del', ns], { allowFail: true });
  // Deleting the namespace destroys the pair once its last process is gone; make sure.
  await run('ip', ['link', 'del', veth], { allowFail: true });
}

/**
 * Every name a lab creates is derived from its run id, so two runs never collide and a
 * dead run's leftovers can be found again from the id alone (see cleanup.ts).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** Per-run markers (tmpfs: they vanish with the namespaces and links they describe on reboot). */
export const MARKER_DIR = '/run/provision-test';
/** Per-run directories: overlay upper/work dirs, keys, logs. */
export const RUN_ROOT = '/var/tmp/provision-test';

/** 6 lowercase alphanumerics: short enough for 15-byte interface names. */
export function newRunId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

export const runDirOf = (runId: string): string => join(RUN_ROOT, runId);
export const markerPathOf = (runId: string): string => join(MARKER_DIR, `${runId}.json`);
export const octetClaimPath = (octet: number): string => join(MARKER_DIR, `octet-${octet}`);

/** `ptb-k3x9q2`: 10 bytes, under IFNAMSIZ (15). */
export const bridgeNameOf = (runId: string): string => `ptb-${runId}`;

/** Host-side veth ends: `ptv-k3x9q2-12`, at most 14 bytes for up to 999 interfaces. */
export const vethPrefixOf = (runId: string): string => `ptv-${runId}-`;
export const vethNameOf = (runId: string, index: number): string => `${vethPrefixOf(runId)}${index}`;

/** Network namespaces: `pt-k3x9q2-h-lb-1` for hosts, `pt-k3x9q2-b-tomcat-1` for backends. */
export const netnsPrefixOf = (runId: string): string => `pt-${runId}-`;
export const hostNetnsOf = (runId: string, name: string): string => `${netnsPrefixOf(runId)}h-${name}`;
export const backendNetnsOf = (runId: string, name: string): string => `${netnsPrefixOf(runId)}b-${name}`;

/** Host and backend names become hostnames, netns and directory names: keep them plain. */
export function assertValidName(name: string): void {
  if (!/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/.test(name)) {
    throw new Error(`invalid test host name ${JSON.stringify(name)}: use lowercase letters, digits and inner dashes`);
  }
}

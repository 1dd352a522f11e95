/**
 * `download`: fetched on the controller (the hosts need no route to the internet), verified
 * against its SHA-256, cached, optionally one member extracted from a zip (how HashiCorp
 * ships consul and consul-template), then installed like a file: uploaded only when the
 * host's copy differs.
 */
import { z } from 'zod';
import { unzipSync } from 'fflate';
import { absPathSchema, diffManagedFile, fileFacts, modeSchema, nameSchema, putFileFragment, type ManagedFile } from './file-common.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  url: z.string().url({ error: 'expected a URL such as https://releases.example.com/tool.zip' }),
  sha256: z.string({ error: 'expected a SHA-256 of 64 hex digits, quoted' }).regex(/^[0-9a-fA-F]{64}$/, 'expected a SHA-256 of 64 hex digits, as `sha256sum FILE` prints it'),
  dest: absPathSchema,
  extract: z.string().min(1).optional(),
  mode: modeSchema.optional(),
  owner: nameSchema.optional(),
  group: nameSchema.optional(),
  backup: z.boolean().optional(),
});
export type DownloadSpec = z.infer<typeof schema> & { bytes?: Buffer };

/** Members already extracted, by archive (the download cache hands every host the same Buffer). */
const extracted = new WeakMap<Buffer, Map<string, Buffer>>();

/** One member of a zip archive, extracted once per archive and shared by every host. */
export function extractMember(zip: Buffer, member: string): Buffer {
  let members = extracted.get(zip);
  if (!members) extracted.set(zip, (members = new Map()));
  let data = members.get(member);
  if (!data) members.set(member, (data = unzipMember(zip, member)));
  return data;
}

function unzipMember(zip: Buffer, member: string): Buffer {
  const files = unzipSync(new Uint8Array(zip), { filter: (f) => f.name === member });
  const data = files[member];
  if (!data) {
    const names = Object.keys(unzipSync(new Uint8Array(zip), { filter: () => false }));
    throw new Error(`archive has no member \`${member}\`${names.length ? ` (it has: ${names.join(', ')})` : ''}`);
  }
  return Buffer.from(data);
}

function managed(s: DownloadSpec): ManagedFile {
  return { dest: s.dest, content: s.bytes ?? Buffer.alloc(0), mode: s.mode, owner: s.owner, group: s.group, backup: s.backup };
}

export const downloadResource: ResourceType<DownloadSpec, ManagedFile> = {
  kind: 'download',
  schema,
  id: (s) => `download ${s.dest}`,
  async prepare(s, ctx) {
    const archive = await ctx.download(s.url, s.sha256.toLowerCase());
    return { ...s, bytes: s.extract ? extractMember(archive, s.extract) : archive };
  },
  facts: (s) => fileFacts(s.dest),
  diff(s, facts, ctx) {
    const change = diffManagedFile('download', managed(s), facts, ctx);
    if (change?.content) change.content = { path: s.dest, before: undefined, after: null, binary: true };
    return change;
  },
  apply: (change, ctx) => putFileFragment(change.spec, ctx, { raw: true }),
  managedFile: (change) => change.spec,
};

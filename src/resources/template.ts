/** `template`: a file rendered with nunjucks from the templates dir with the host's vars. */
import { z } from 'zod';
import { absPathSchema, diffManagedFile, fileAttrsShape, fileFacts, putFileFragment, type ManagedFile } from './file-common.js';
import { toManaged } from './file.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  src: z.string().min(1),
  dest: absPathSchema,
  ...fileAttrsShape,
  /**
   * The name of a later step that applies some of this file's lines to the running
   * service (its `liveMask`): a change confined to those lines notifies no handler when
   * that step succeeds live (engine/live-changes.ts). The probe then reads the file's bytes.
   */
  live_by: z.string().min(1).optional(),
});
export type TemplateSpec = z.infer<typeof schema> & { bytes?: Buffer };

export const templateResource: ResourceType<TemplateSpec, ManagedFile> = {
  kind: 'template',
  schema,
  id: (s) => `template ${s.dest}`,
  check: (s) => (s.validate && !s.validate.includes('%s') ? '`validate` must contain %s (the staged file)' : null),
  async prepare(s, ctx) {
    if (s.state === 'absent') return { ...s, bytes: Buffer.alloc(0) };
    return { ...s, bytes: Buffer.from(await ctx.renderTemplate(s.src), 'utf8') };
  },
  facts: (s) => [...fileFacts(s.dest), ...(s.live_by ? [{ kind: 'content' as const, path: s.dest }] : [])],
  liveBy: (s) => s.live_by,
  diff: (s, facts, ctx) => diffManagedFile('template', toManaged({ ...s, content: '' }, s.bytes ?? Buffer.alloc(0)), facts, ctx),
  apply: (change, ctx) => putFileFragment(change.spec, ctx),
  managedFile: (change) => change.spec,
};

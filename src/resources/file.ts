/** `file`: a file with inline `content` or a `src` from the files dir. */
import { z } from 'zod';
import { absPathSchema, diffManagedFile, fileAttrsShape, fileFacts, putFileFragment, type ManagedFile } from './file-common.js';
import type { ResourceType } from './types.js';

const schema = z.strictObject({
  dest: absPathSchema,
  content: z.string().optional(),
  src: z.string().min(1).optional(),
  ...fileAttrsShape,
});
export type FileSpec = z.infer<typeof schema> & { bytes?: Buffer };

export function toManaged(spec: FileSpec, bytes: Buffer): ManagedFile {
  return {
    dest: spec.dest,
    content: bytes,
    mode: spec.mode,
    owner: spec.owner,
    group: spec.group,
    backup: spec.backup,
    validate: spec.validate,
    validateSet: spec.validate_set,
    state: spec.state,
  };
}

export const fileResource: ResourceType<FileSpec, ManagedFile> = {
  kind: 'file',
  schema,
  id: (s) => `file ${s.dest}`,
  check(s) {
    if (s.state === 'absent') return s.content !== undefined || s.src ? '`content`/`src` make no sense with state: absent' : null;
    if (s.content === undefined && s.src === undefined) return 'give `content` or `src` (for only mode/owner/group of an existing path, use an `attributes` step)';
    if ((s.content === undefined) === (s.src === undefined)) return 'give exactly one of `content` or `src`';
    if (s.validate && !s.validate.includes('%s')) return '`validate` must contain %s (the staged file)';
    return null;
  },
  async prepare(s, ctx) {
    const bytes = s.src !== undefined ? await ctx.readSourceFile(s.src) : Buffer.from(s.content ?? '', 'utf8');
    return { ...s, bytes };
  },
  facts: (s) => fileFacts(s.dest),
  diff: (s, facts, ctx) => diffManagedFile('file', toManaged(s, s.bytes ?? Buffer.alloc(0)), facts, ctx),
  apply: (change, ctx) => putFileFragment(change.spec, ctx),
  managedFile: (change) => change.spec,
};

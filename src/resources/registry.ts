/** Every step type, by its YAML key. Adding a type is one file and one line here. */
import { aclResource } from './acl.js';
import { aptResource } from './apt.js';
import { commandResource } from './command.js';
import { directoryResource } from './directory.js';
import { downloadResource } from './download.js';
import { fileResource } from './file.js';
import { groupResource } from './group.js';
import { haproxyServersResource } from './haproxy-servers.js';
import { lineResource } from './line.js';
import { serviceResource } from './service.js';
import { sudoersResource } from './sudoers.js';
import { symlinkResource } from './symlink.js';
import { systemdUnitResource } from './systemd-unit.js';
import { templateResource } from './template.js';
import type { ResourceType } from './types.js';
import { userResource } from './user.js';

const ALL: ResourceType[] = [
  aptResource,
  fileResource,
  templateResource,
  directoryResource,
  symlinkResource,
  lineResource,
  userResource,
  groupResource,
  systemdUnitResource,
  serviceResource,
  sudoersResource,
  aclResource,
  downloadResource,
  commandResource,
  haproxyServersResource,
];

export const REGISTRY = new Map<string, ResourceType>(ALL.map((r) => [r.kind, r]));

/** The view the config loader needs (it must not import resources). */
export const STEP_KINDS = {
  get: (kind: string) => REGISTRY.get(kind),
  kinds: () => [...REGISTRY.keys()],
};

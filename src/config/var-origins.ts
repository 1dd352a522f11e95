/**
 * Where each variable's value came from, so that an error about a value names the place
 * the user has to edit: `inventory/prod.yaml:17:18: var `consul_sha256`: expected a SHA-256
 * of 64 hex digits (used at playbooks/consul-client.yaml:42:15)`, not only the playbook
 * line that reads `"{{ consul_sha256 }}"`.
 */
import { ConfigError, type SourcePos } from './errors.js';

export type VarOrigins = Readonly<Record<string, SourcePos>>;

type Path = (string | number)[];

/**
 * The position of the winning definition of every var, given the layers lowest first (the
 * same order as mergeVars: a later layer's definition replaces an earlier one).
 */
export function varOrigins(
  layers: readonly { path: Path; vars: Record<string, unknown> | undefined }[],
  posOf: (path: Path, at?: 'key' | 'value') => SourcePos,
): Record<string, SourcePos> {
  const out: Record<string, SourcePos> = {};
  for (const layer of layers) for (const name of Object.keys(layer.vars ?? {})) out[name] = posOf([...layer.path, name], 'value');
  return out;
}

/** The variables a template string reads at the top level: `{{ a }}`, `{{ b | x }}`, `{{ c.d }}` -> a, b, c. */
export function referencedVars(text: string): string[] {
  const names = [...text.matchAll(/\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
  return [...new Set(names)];
}

const at = (p: SourcePos): string => `${p.file}:${p.line}:${p.col}`;

/**
 * When the value in error was rendered from variables (`raw` is the YAML text at the
 * error, or at its nearest ancestor), the error is moved to where the first of them is
 * defined and says where it is used. Otherwise the error is returned as it is.
 */
export function blameVariable(err: ConfigError, raw: string | undefined, origins: VarOrigins): ConfigError {
  if (raw === undefined) return err;
  const name = referencedVars(raw).find((n) => origins[n] !== undefined);
  if (name === undefined) return err;
  const used = err.pos ? `used at ${at(err.pos)}` : undefined;
  return new ConfigError(`var \`${name}\`: ${err.problem}`, origins[name]!, [err.hint, used].filter(Boolean).join('; ') || undefined);
}

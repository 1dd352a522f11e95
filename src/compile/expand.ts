/**
 * Per-host expansion (controller side, no connection): playbook defaults + host vars,
 * include conditions, `loop`, `when`, rendering of every string in a step body, strict
 * schema validation of the rendered body (errors point at the YAML), cross-field checks,
 * then `prepare` (templates rendered, sources read, downloads verified). The result is
 * exactly what the engine needs: steps with final specs and content bytes.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { ConfigError, ConfigErrors, ProvisionError, type SourcePos } from '../config/errors.js';
import type { HostConfig } from '../config/inventory.js';
import type { SecretInfo } from '../config/secrets.js';
import type { HandlerDef, Playbook, StepDef } from '../config/playbooks.js';
import { displayPath } from '../config/paths.js';
import type { TemplateEngine } from '../config/templates.js';
import { LazyVars } from '../config/lazy-vars.js';
import { BUILTIN_VARS, mergeVars } from '../config/vars.js';
import { blameVariable, type VarOrigins } from '../config/var-origins.js';
import { describeValue, zodIssuesToConfigErrors } from '../config/zod-issues.js';
import type { ResolvedHandler, ResolvedStep, ValidateSet } from '../engine/types.js';
import type { DownloadCache } from '../resources/download-cache.js';
import { REGISTRY } from '../resources/registry.js';
import { PathOwners } from '../resources/path-owners.js';
import { secretContentError, secretFieldErrors, SecretTracer } from '../resources/secret-policy.js';
import type { PrepareContext, ResourceType } from '../resources/types.js';

export interface ExpandDeps {
  templates: TemplateEngine;
  filesDir: string;
  downloads: DownloadCache;
  secretValues: readonly string[];
  /** The inventory's secrets by name: traced into step fields (secret-policy.ts). */
  secrets?: ReadonlyMap<string, SecretInfo> | undefined;
}

export interface ExpandedHost {
  steps: ResolvedStep[];
  handlers: Map<string, ResolvedHandler>;
  validateSets: Map<string, ValidateSet>;
}

function where(pos: SourcePos): string {
  return `${pos.file}:${pos.line}`;
}

function truthy(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}

/** The YAML text at `path` or at its nearest ancestor that is a scalar (a var may fill a whole list). */
function rawNear(def: StepDef | HandlerDef, path: PropertyKey[]): string | undefined {
  const p = path.filter((k): k is string | number => typeof k !== 'symbol');
  for (let i = p.length; i >= 0; i--) {
    const raw = def.rawAt(p.slice(0, i));
    if (raw !== undefined) return raw;
  }
  return undefined;
}

/** Render, validate and check one body against its step type. */
function resolveBody(type: ResourceType, def: StepDef | HandlerDef, vars: object, deps: ExpandDeps, errors: ConfigError[], asHandler = false, origins: VarOrigins = {}): unknown | undefined {
  let rendered: unknown;
  try {
    rendered = deps.templates.renderValue(def.body, vars, (p) => def.posOf(p));
  } catch (e) {
    if (e instanceof ConfigError) return void errors.push(e);
    throw e;
  }
  const parsed = type.schema.safeParse(rendered ?? {}, { reportInput: true });
  if (!parsed.success) {
    // An error in a value rendered from a var points at the var's definition (and says where it is used).
    for (const issue of parsed.error.issues) {
      const found = zodIssuesToConfigErrors([issue], (p) => def.posOf(p), undefined, (p) => def.rawAt(p));
      errors.push(...found.map((e) => blameVariable(e, rawNear(def, issue.path), origins)));
    }
    return undefined;
  }
  // A handler runs unconditionally when notified: step-only rules (guards) do not apply.
  const problem = asHandler ? null : type.check?.(parsed.data);
  if (problem) return void errors.push(new ConfigError(`${def.kind}: ${problem}`, def.pos));
  return parsed.data;
}

function prepareContext(host: HostConfig, vars: LazyVars, def: StepDef | HandlerDef, deps: ExpandDeps): PrepareContext {
  return {
    host: host.name,
    vars,
    renderTemplate: async (src, pos) => deps.templates.renderFile(src, vars, pos ?? def.posOf(['src'], 'value')),
    readSourceFile: async (src, pos) => {
      const file = path.resolve(deps.filesDir, src);
      try {
        return await readFile(file);
      } catch {
        throw new ConfigError(`source file \`${src}\` not found in ${displayPath(deps.filesDir)}`, pos ?? def.posOf(['src'], 'value'));
      }
    },
    download: (url, sha, pos) =>
      deps.downloads.get(url, sha).catch((e: unknown) => {
        throw new ConfigError(e instanceof ProvisionError ? e.shortMessage : String(e), pos ?? def.posOf(['url'], 'value'));
      }),
    containsSecret: (text) => deps.secretValues.some((s) => s && text.includes(s)),
  };
}

/**
 * The type's `prepare` (render, download), between the secret checks: a secret in a field
 * that is not a private file's content is refused before, one in a world-readable file's
 * content after (secret-policy.ts). Undefined after an error.
 */
async function prepareBody(type: ResourceType, spec: unknown, ctx: PrepareContext, def: StepDef | HandlerDef, errors: ConfigError[], tracer: SecretTracer): Promise<unknown> {
  const leaks = secretFieldErrors(def.kind, spec, tracer, (p) => def.posOf(p));
  if (leaks.length) return void errors.push(...leaks);
  let prepared: unknown;
  try {
    prepared = type.prepare ? await type.prepare(spec, ctx) : spec;
  } catch (e) {
    errors.push(e instanceof ConfigError ? e : new ConfigError(`${def.kind}: ${(e as Error).message}`, def.pos));
    return undefined;
  }
  const leak = secretContentError(def.kind, spec as Record<string, unknown>, prepared as Record<string, unknown>, tracer, (p) => def.posOf(p));
  return leak ? void errors.push(leak) : prepared;
}

function checkSetMember(spec: { dest?: string; validate_set?: string }, def: StepDef, sets: Playbook['validateSets']): ConfigError | null {
  const name = spec.validate_set!;
  const set = sets.get(name);
  if (!set) {
    const known = [...sets.keys()];
    return new ConfigError(`unknown validate_set \`${name}\``, def.posOf(['validate_set'], 'value'), known.length ? `defined: ${known.join(', ')}` : 'define it under `validate_sets:` in the playbook');
  }
  const dest = spec.dest ?? '';
  const paths = Object.values(set.paths);
  if (!paths.includes(dest) && !paths.includes(path.posix.dirname(dest))) {
    return new ConfigError(`${dest} is not one of validate_set \`${name}\`'s paths nor directly inside one of them`, def.posOf(['dest'], 'value'), `paths: ${paths.join(', ')}`);
  }
  return null;
}

/** A playbook var named like a secret: which one wins would depend on precedence, silently. */
function secretVarClashes(playbook: Playbook, secrets: ReadonlyMap<string, SecretInfo> | undefined): ConfigError[] {
  const out: ConfigError[] = [];
  for (const name of Object.keys(playbook.vars)) {
    const secret = secrets?.get(name);
    if (!secret) continue;
    const at = secret.pos;
    const hint = `rename one of them; a template can default an optional secret with \`${name} | default('')\``;
    out.push(new ConfigError(`playbook var \`${name}\` has the same name as a secret (defined at ${at.file}:${at.line}:${at.col})`, playbook.varKeyPos?.get(name), hint));
  }
  return out;
}

/** Playbook defaults under the host's vars; templated values render when read (lazy-vars.ts). */
function hostVars(host: HostConfig, playbook: Playbook, deps: ExpandDeps): LazyVars {
  const merged = mergeVars(playbook.vars, host.vars);
  const positions = { ...playbook.varPos, ...host.varPos };
  const literal = (name: string, value: unknown): boolean => (BUILTIN_VARS as readonly string[]).includes(name) || (typeof value === 'string' && deps.secretValues.includes(value));
  return new LazyVars(merged, positions, (v, vars, posOf) => deps.templates.renderValue(v, vars, posOf), literal);
}

/** What the phases of one host's expansion share; errors are collected, not thrown. */
interface Expansion {
  host: HostConfig;
  playbook: Playbook;
  deps: ExpandDeps;
  errors: ConfigError[];
  tracer: SecretTracer;
  owners: PathOwners;
  baseVars: LazyVars;
  /** Where each var is defined, for errors in values rendered from it. */
  origins: VarOrigins;
}

/** A host's steps (conditions, loops, `when` applied; bodies rendered, checked, prepared), handlers and validation sets. */
export async function expandHost(host: HostConfig, playbook: Playbook, deps: ExpandDeps): Promise<ExpandedHost> {
  const x: Expansion = {
    host,
    playbook,
    deps,
    errors: [...secretVarClashes(playbook, deps.secrets)],
    tracer: new SecretTracer(deps.secrets),
    owners: new PathOwners(),
    baseVars: hostVars(host, playbook, deps),
    origins: Object.fromEntries(Object.entries({ ...playbook.varPos, ...host.varPos }).map(([name, posOf]) => [name, posOf([])])),
  };
  const steps: ResolvedStep[] = [];
  for (const def of playbook.steps) {
    if (def.conditions.some((c) => evalCond(x, c, x.baseVars, def.pos) !== true)) continue;
    for (const item of loopItems(x, def)) {
      const step = await expandStep(x, def, item, steps.length);
      if (step) steps.push(step);
    }
  }
  const handlers = await expandHandlers(x);
  const validateSets = new Map<string, ValidateSet>();
  for (const [name, s] of playbook.validateSets) validateSets.set(name, { name, command: s.command, paths: s.paths });

  const { errors } = x;
  if (errors.length) throw errors.length === 1 ? errors[0]! : new ConfigErrors(errors);
  return { steps, handlers, validateSets };
}

/** An include condition or `when`: true, false, or undefined after an error. */
function evalCond(x: Expansion, cond: string | boolean, vars: object, pos: SourcePos): boolean | undefined {
  if (typeof cond === 'boolean') return cond;
  try {
    return truthy(x.deps.templates.evaluate(cond, vars, pos));
  } catch (e) {
    if (e instanceof ConfigError) return void x.errors.push(e);
    throw e;
  }
}

/** The items a step runs for: its rendered `loop` list, or one run without a loop var (none after an error). */
function loopItems(x: Expansion, def: StepDef): unknown[] {
  if (def.loop === undefined) return [undefined];
  let value: unknown;
  try {
    value = x.deps.templates.renderValue(def.loop, x.baseVars, () => def.loopPos ?? def.pos);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    x.errors.push(e);
    return [];
  }
  if (!Array.isArray(value)) {
    const hint = 'give a YAML list, or "{{ NAME }}" where the var NAME holds a list';
    x.errors.push(new ConfigError(`\`loop\` must be a list, got ${describeValue(value)}`, def.loopPos ?? def.pos, hint));
    return [];
  }
  return value;
}

/** One run of a step (one loop item): `when`, body, validation set, prepare, path owner, name. */
async function expandStep(x: Expansion, def: StepDef, item: unknown, index: number): Promise<ResolvedStep | undefined> {
  const { deps, errors } = x;
  const type = REGISTRY.get(def.kind)!;
  const vars = def.loop !== undefined ? x.baseVars.with(def.loopVar, item) : x.baseVars;
  if (def.when !== undefined && evalCond(x, def.when, vars, def.whenPos ?? def.pos) !== true) return undefined;
  // A loop var shadows any var of the same name: it is not defined in a file.
  const stepOrigins = def.loop !== undefined ? { ...x.origins, [def.loopVar]: undefined } : x.origins;
  const spec = resolveBody(type, def, vars, deps, errors, false, stepOrigins as VarOrigins);
  if (spec === undefined) return undefined;
  const set = (spec as { validate_set?: string }).validate_set;
  if (set) {
    const err = checkSetMember(spec as { dest?: string; validate_set?: string }, def, x.playbook.validateSets);
    if (err) return void errors.push(err);
  }
  const prepared = await prepareBody(type, spec, prepareContext(x.host, vars, def, deps), def, errors, x.tracer);
  if (prepared === undefined) return undefined;
  const clash = x.owners.claim(def.kind, prepared, def.pos);
  if (clash) errors.push(clash);
  const name = stepName(x, def, vars);
  return { index, name: name || type.id(prepared), kind: def.kind, type, spec: prepared, notify: def.notify, validateSet: set, where: where(def.pos) };
}

/** The step's `name`, rendered; a secret in it is refused (every report shows it). */
function stepName(x: Expansion, def: StepDef, vars: object): string {
  let name = def.name ?? '';
  if (!name.includes('{')) return name;
  try {
    name = x.deps.templates.renderString(name, vars, def.pos);
  } catch (e) {
    if (e instanceof ConfigError) x.errors.push(e);
    else throw e;
  }
  const secret = x.tracer.find(name);
  if (secret) x.errors.push(new ConfigError(`secret \`${secret}\` would be in the step name, which every report shows`, def.pos, 'name the step without it'));
  return name;
}

/** The handlers, rendered and prepared like steps (without the step-only checks). */
async function expandHandlers(x: Expansion): Promise<Map<string, ResolvedHandler>> {
  const handlers = new Map<string, ResolvedHandler>();
  for (const [name, def] of x.playbook.handlers) {
    const type = REGISTRY.get(def.kind)!;
    if (!type.handler) {
      x.errors.push(new ConfigError(`\`${def.kind}\` cannot be a handler`, def.pos, 'use `service` (state: reloaded/restarted) or `command`'));
      continue;
    }
    const spec = resolveBody(type, def, x.baseVars, x.deps, x.errors, true, x.origins);
    if (spec === undefined) continue;
    // The same preparation as a step: a handler's command is refused a secret too.
    const prepared = await prepareBody(type, spec, prepareContext(x.host, x.baseVars, def, x.deps), def, x.errors, x.tracer);
    if (prepared === undefined) continue;
    handlers.set(name, { name, kind: def.kind, type, spec: prepared });
  }
  return handlers;
}

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

export async function expandHost(host: HostConfig, playbook: Playbook, deps: ExpandDeps): Promise<ExpandedHost> {
  const errors: ConfigError[] = [];
  const tracer = new SecretTracer(deps.secrets);
  const owners = new PathOwners();
  errors.push(...secretVarClashes(playbook, deps.secrets));
  const baseVars = hostVars(host, playbook, deps);
  const origins: VarOrigins = Object.fromEntries(Object.entries({ ...playbook.varPos, ...host.varPos }).map(([name, posOf]) => [name, posOf([])]));
  const steps: ResolvedStep[] = [];
  const evalCond = (cond: string | boolean, vars: object, pos: SourcePos): boolean | undefined => {
    if (typeof cond === 'boolean') return cond;
    try {
      return truthy(deps.templates.evaluate(cond, vars, pos));
    } catch (e) {
      if (e instanceof ConfigError) return void errors.push(e);
      throw e;
    }
  };

  for (const def of playbook.steps) {
    const type = REGISTRY.get(def.kind)!;
    if (def.conditions.some((c) => evalCond(c, baseVars, def.pos) !== true)) continue;
    let items: unknown[] = [undefined];
    if (def.loop !== undefined) {
      let value: unknown;
      try {
        value = deps.templates.renderValue(def.loop, baseVars, () => def.loopPos ?? def.pos);
      } catch (e) {
        if (e instanceof ConfigError) {
          errors.push(e);
          continue;
        }
        throw e;
      }
      if (!Array.isArray(value)) {
        const hint = 'give a YAML list, or "{{ NAME }}" where the var NAME holds a list';
        errors.push(new ConfigError(`\`loop\` must be a list, got ${describeValue(value)}`, def.loopPos ?? def.pos, hint));
        continue;
      }
      items = value;
    }
    for (const item of items) {
      const vars = def.loop !== undefined ? baseVars.with(def.loopVar, item) : baseVars;
      if (def.when !== undefined && evalCond(def.when, vars, def.whenPos ?? def.pos) !== true) continue;
      // A loop var shadows any var of the same name: it is not defined in a file.
      const stepOrigins = def.loop !== undefined ? { ...origins, [def.loopVar]: undefined } : origins;
      const spec = resolveBody(type, def, vars, deps, errors, false, stepOrigins as VarOrigins);
      if (spec === undefined) continue;
      const set = (spec as { validate_set?: string }).validate_set;
      if (set) {
        const err = checkSetMember(spec as { dest?: string; validate_set?: string }, def, playbook.validateSets);
        if (err) {
          errors.push(err);
          continue;
        }
      }
      const prepared = await prepareBody(type, spec, prepareContext(host, vars, def, deps), def, errors, tracer);
      if (prepared === undefined) continue;
      const clash = owners.claim(def.kind, prepared, def.pos);
      if (clash) errors.push(clash);
      let name = def.name ?? '';
      if (name.includes('{')) {
        try {
          name = deps.templates.renderString(name, vars, def.pos);
        } catch (e) {
          if (e instanceof ConfigError) errors.push(e);
          else throw e;
        }
        const secret = tracer.find(name);
        if (secret) errors.push(new ConfigError(`secret \`${secret}\` would be in the step name, which every report shows`, def.pos, 'name the step without it'));
      }
      steps.push({
        index: steps.length,
        name: name || type.id(prepared),
        kind: def.kind,
        type,
        spec: prepared,
        notify: def.notify,
        validateSet: set,
        where: where(def.pos),
      });
    }
  }

  const handlers = new Map<string, ResolvedHandler>();
  for (const [name, def] of playbook.handlers) {
    const type = REGISTRY.get(def.kind)!;
    if (!type.handler) {
      errors.push(new ConfigError(`\`${def.kind}\` cannot be a handler`, def.pos, 'use `service` (state: reloaded/restarted) or `command`'));
      continue;
    }
    const spec = resolveBody(type, def, baseVars, deps, errors, true, origins);
    if (spec === undefined) continue;
    // The same preparation as a step: a handler's command is refused a secret too.
    const prepared = await prepareBody(type, spec, prepareContext(host, baseVars, def, deps), def, errors, tracer);
    if (prepared === undefined) continue;
    handlers.set(name, { name, kind: def.kind, type, spec: prepared });
  }

  const validateSets = new Map<string, ValidateSet>();
  for (const [name, s] of playbook.validateSets) validateSets.set(name, { name, command: s.command, paths: s.paths });

  if (errors.length) throw errors.length === 1 ? errors[0]! : new ConfigErrors(errors);
  return { steps, handlers, validateSets };
}

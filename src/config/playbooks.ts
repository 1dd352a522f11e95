/**
 * Loads playbooks into one flat, ordered list of steps: includes are flattened in place
 * (their `when` carried in `conditions`), handlers and validation sets gathered by name.
 * Step bodies are checked for unknown KEYS only (against the kind's zod schema), so typos
 * are caught with positions before anything is rendered; values are validated per host
 * after rendering by the engine, using `posOf` and zodIssuesToConfigErrors.
 */
import type { GateConfig } from './rollout.js';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError, ConfigErrors, type SourcePos } from './errors.js';
import { displayPath } from './paths.js';
import { findPlaybook, isPlaybookPath, listPlaybookNames, playbookCandidates } from './playbook-paths.js';
import { includeSchema, INCLUDE_KEYS, playbookFrameSchema, STEP_META_KEYS, stepMetaShape, type StepKinds } from './playbook-schema.js';
import { didYouMean } from './suggest.js';
import type { VarPositions } from './lazy-vars.js';
import { mergeVarPositions } from './vars.js';
import { YamlSource, type PosOf, type YamlPath } from './yaml-source.js';
import { unknownKeys, validKeysAt } from './zod-shape.js';
import { zodIssuesToConfigErrors } from './zod-issues.js';
import { z } from 'zod';

export type { StepKinds };

type Path = (string | number)[];

export interface StepDef {
  name?: string;
  kind: string;
  body: unknown;
  notify: string[];
  when?: string | boolean;
  loop?: string | unknown[];
  loopVar: string;
  /** Positions of the `when` and `loop` values, when there are. */
  whenPos?: SourcePos;
  loopPos?: SourcePos;
  /** Position of the step's mapping. */
  pos: SourcePos;
  /** Position of a key/value inside the BODY (falls back to the nearest existing node). */
  posOf(path: Path, at?: 'key' | 'value'): SourcePos;
  /** Source text of a scalar inside the BODY (tells `0644` from `644`; 4th arg of zodIssuesToConfigErrors). */
  rawAt(path: Path): string | undefined;
  file: string;
  /** `when`s of the enclosing includes, outermost first. */
  conditions: (string | boolean)[];
}

export interface HandlerDef {
  name: string;
  kind: string;
  body: unknown;
  pos: SourcePos;
  posOf(path: Path, at?: 'key' | 'value'): SourcePos;
  rawAt(path: Path): string | undefined;
  file: string;
}

export interface ValidateSet {
  command: string;
  paths: Record<string, string>;
  pos: SourcePos;
}

export interface Playbook {
  /** Every file loaded (entry files and includes), first load order, no duplicates. */
  files: string[];
  steps: StepDef[];
  handlers: Map<string, HandlerDef>;
  validateSets: Map<string, ValidateSet>;
  /** Playbook default vars, merged in load order (later files win per top-level name). */
  vars: Record<string, unknown>;
  /** Where each playbook var's winning value is written. */
  varPos?: VarPositions;
  /** Where each playbook var's name is written (the winning file's key). */
  varKeyPos?: Map<string, SourcePos>;
  /** Health gates of every loaded file, in load order (rendered per host by the CLI). */
  health: GateConfig[];
}

const META_SHAPE = z.strictObject(stepMetaShape);

class Loader {
  readonly errors: ConfigError[] = [];
  readonly files: string[] = [];
  readonly steps: StepDef[] = [];
  readonly handlers = new Map<string, HandlerDef>();
  readonly health: GateConfig[] = [];
  /** Handlers defined but invalid (already reported): notifying them is not a second error. */
  private readonly badHandlers = new Set<string>();
  readonly validateSets = new Map<string, ValidateSet & { raw: unknown }>();
  readonly vars: Record<string, unknown> = {};
  readonly varPos: VarPositions = {};
  readonly varKeyPos = new Map<string, SourcePos>();
  private readonly notifies: { names: string[]; posOf: (i: number) => SourcePos }[] = [];
  private readonly cache = new Map<string, YamlSource>();

  constructor(private readonly kinds: StepKinds) {}

  async loadFile(abs: string, stack: string[], conditions: (string | boolean)[], from?: SourcePos): Promise<void> {
    let src = this.cache.get(abs);
    if (!src) {
      try {
        src = await YamlSource.load(abs, from, 'playbook');
      } catch (e) {
        if (e instanceof ConfigErrors) this.errors.push(...e.errors);
        else if (e instanceof ConfigError) this.errors.push(e);
        else throw e;
        return;
      }
      this.cache.set(abs, src);
    }
    const firstTime = !this.files.includes(abs);
    if (firstTime) this.files.push(abs);
    if (src.data === null || src.data === undefined) return; // an empty playbook does nothing
    const frame = playbookFrameSchema.safeParse(src.data, { reportInput: true });
    if (!frame.success) {
      this.errors.push(...zodIssuesToConfigErrors(frame.error.issues, src.posOf, (p) => validKeysAt(playbookFrameSchema, p), (p) => src!.rawAt(p)));
      return;
    }
    const pb = frame.data;
    if (firstTime) {
      Object.assign(this.vars, pb.vars ?? {});
      Object.assign(this.varPos, mergeVarPositions([{ path: ['vars'], vars: pb.vars }], (p) => src!.posOf(p)));
      for (const name of Object.keys(pb.vars ?? {})) this.varKeyPos.set(name, src.posOf(['vars', name], 'key'));
      this.addHandlers(src, abs, pb.handlers ?? {});
      this.addValidateSets(src, pb.validate_sets ?? {});
      (pb.health ?? []).forEach((def, i) => this.health.push({ def, pos: src!.posOf(['health', i]), source: `playbook ${abs}` }));
    }
    const steps = pb.steps ?? [];
    for (let i = 0; i < steps.length; i++) {
      const item = steps[i];
      const at: Path = ['steps', i];
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        this.errors.push(new ConfigError('expected a step (a map with one step-type key, or `include:`)', src.posOf(at)));
        continue;
      }
      const step = item as Record<string, unknown>;
      if ('include' in step) await this.include(src, abs, at, step, stack, conditions);
      else this.addStep(src, abs, at, step, conditions);
    }
  }

  private async include(src: YamlSource, abs: string, at: Path, step: Record<string, unknown>, stack: string[], conditions: (string | boolean)[]): Promise<void> {
    const parsed = includeSchema.safeParse(step, { reportInput: true });
    if (!parsed.success) {
      this.errors.push(...this.issues(src, at, parsed.error.issues, (p) => (p.length === 0 ? [...INCLUDE_KEYS] : undefined)));
      return;
    }
    const { include: ref, when } = parsed.data;
    const dir = path.dirname(abs);
    const refPos = src.posOf([...at, 'include']);
    const target = await findPlaybook(ref, dir, dir);
    if (!target) {
      const tried = displayPath(playbookCandidates(ref, dir, dir)[0]!);
      const hint = isPlaybookPath(ref) ? undefined : didYouMean(ref, await listPlaybookNames(dir));
      this.errors.push(new ConfigError(`included playbook \`${ref}\` not found (looked for ${tried})`, refPos, hint));
      return;
    }
    const ancestors = [...stack, abs];
    if (ancestors.includes(target)) {
      const chain = [...ancestors.slice(ancestors.indexOf(target)), target].map((f) => displayPath(f));
      this.errors.push(new ConfigError(`include cycle: ${chain.join(' -> ')}`, refPos, 'a playbook cannot include itself, directly or through other includes'));
      return;
    }
    await this.loadFile(target, [...stack, abs], when === undefined ? conditions : [...conditions, when], refPos);
  }

  private addStep(src: YamlSource, abs: string, at: Path, step: Record<string, unknown>, conditions: (string | boolean)[]): void {
    const kindNames = this.kinds.kinds();
    const valid = [...STEP_META_KEYS, ...kindNames];
    const kinds: string[] = [];
    const unknown: string[] = [];
    for (const key of Object.keys(step)) {
      if ((STEP_META_KEYS as readonly string[]).includes(key)) continue;
      if (this.kinds.get(key)) kinds.push(key);
      else {
        unknown.push(key);
        this.errors.push(new ConfigError(`unknown key \`${key}\` in step`, src.posOf([...at, key], 'key'), didYouMean(key, valid) ?? `step types: ${kindNames.join(', ')}`));
      }
    }
    if (kinds.length > 1) {
      this.errors.push(new ConfigError(`a step has exactly one step type, found ${kinds.length}: ${kinds.join(', ')}`, src.posOf([...at, kinds[1]!], 'key'), 'split it into several steps'));
      return;
    }
    if (kinds.length === 0) {
      if (unknown.length === 0) this.errors.push(new ConfigError('step has no step type', src.posOf(at), `expected one of: ${kindNames.join(', ')}`));
      return;
    }
    const kind = kinds[0]!;
    const { [kind]: body, ...rest } = step;
    // Unknown keys were reported above, once, with the step types among the suggestions.
    const meta = Object.fromEntries(Object.entries(rest).filter(([k]) => !unknown.includes(k)));
    const parsedMeta = META_SHAPE.safeParse(meta, { reportInput: true });
    if (!parsedMeta.success) {
      this.errors.push(...this.issues(src, at, parsedMeta.error.issues, () => valid));
      return;
    }
    if (unknown.length > 0) return;
    if (!this.checkBody(src, kind, [...at, kind], body)) return;
    const m = parsedMeta.data;
    const notify = m.notify === undefined ? [] : Array.isArray(m.notify) ? m.notify : [m.notify];
    this.notifies.push({ names: notify, posOf: (i) => src.posOf(Array.isArray(m.notify) ? [...at, 'notify', i] : [...at, 'notify']) });
    const def: StepDef = {
      kind,
      body,
      notify,
      loopVar: m.loop_var ?? 'item',
      pos: src.posOf(at),
      posOf: bodyPos(src.posOf, [...at, kind]),
      rawAt: (p) => src.rawAt([...at, kind, ...p]),
      file: abs,
      conditions: [...conditions],
    };
    if (m.name !== undefined) def.name = m.name;
    if (m.when !== undefined) {
      def.when = m.when;
      def.whenPos = src.posOf([...at, 'when']);
    }
    if (m.loop !== undefined) {
      def.loop = m.loop;
      def.loopPos = src.posOf([...at, 'loop']);
    }
    this.steps.push(def);
  }

  /** Unknown keys in a body, at their positions; true when the body is usable. */
  private checkBody(src: YamlSource, kind: string, at: Path, body: unknown): boolean {
    const schema = this.kinds.get(kind)!.schema;
    const found = unknownKeys(schema, body);
    for (const u of found) {
      const key = String(u.path[u.path.length - 1]);
      this.errors.push(new ConfigError(`unknown key \`${key}\` in \`${kind}\``, src.posOf([...at, ...u.path], 'key'), didYouMean(key, u.valid) ?? `valid keys: ${u.valid.join(', ')}`));
    }
    return found.length === 0;
  }

  private addHandlers(src: YamlSource, abs: string, handlers: Record<string, unknown>): void {
    for (const [name, raw] of Object.entries(handlers)) {
      const at: Path = ['handlers', name];
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        this.badHandlers.add(name);
        this.errors.push(new ConfigError(`handler \`${name}\`: expected a map with one step-type key`, src.posOf(at)));
        continue;
      }
      const keys = Object.keys(raw);
      const kindNames = this.kinds.kinds();
      const unknown = keys.filter((k) => !this.kinds.get(k));
      for (const k of unknown) {
        this.errors.push(new ConfigError(`unknown key \`${k}\` in handler \`${name}\``, src.posOf([...at, k], 'key'), didYouMean(k, kindNames) ?? `step types: ${kindNames.join(', ')}`));
      }
      if (unknown.length > 0) {
        this.badHandlers.add(name);
        continue;
      }
      if (keys.length !== 1) {
        this.badHandlers.add(name);
        this.errors.push(new ConfigError(`handler \`${name}\` needs exactly one step-type key, found ${keys.length}: ${keys.join(', ')}`, src.posOf(at, 'key'), 'a handler does one thing: split it into two handlers and notify both'));
        continue;
      }
      const kind = keys[0]!;
      const body = (raw as Record<string, unknown>)[kind];
      if (!this.checkBody(src, kind, [...at, kind], body)) {
        this.badHandlers.add(name);
        continue;
      }
      const existing = this.handlers.get(name);
      if (existing) {
        if (existing.kind !== kind || !isDeepStrictEqual(existing.body, body)) {
          const p = existing.pos;
          this.errors.push(new ConfigError(`handler \`${name}\` is already defined differently at ${p.file}:${p.line}:${p.col}`, src.posOf(at, 'key'), 'give one of them another name'));
        }
        continue;
      }
      this.handlers.set(name, { name, kind, body, pos: src.posOf(at, 'key'), posOf: bodyPos(src.posOf, [...at, kind]), rawAt: (p) => src.rawAt([...at, kind, ...p]), file: abs });
    }
  }

  private addValidateSets(src: YamlSource, sets: Record<string, { command: string; paths: Record<string, string> }>): void {
    for (const [name, set] of Object.entries(sets)) {
      const pos = src.posOf(['validate_sets', name], 'key');
      const existing = this.validateSets.get(name);
      if (existing) {
        if (!isDeepStrictEqual(existing.raw, set)) {
          const p = existing.pos;
          this.errors.push(new ConfigError(`validation set \`${name}\` is already defined differently at ${p.file}:${p.line}:${p.col}`, pos));
        }
        continue;
      }
      for (const m of set.command.matchAll(/\{([A-Za-z0-9_]+)\}/g)) {
        if (!(m[1]! in set.paths)) {
          this.errors.push(new ConfigError(`validation set \`${name}\`: placeholder {${m[1]}} has no entry in \`paths\``, src.posOf(['validate_sets', name, 'command']), didYouMean(m[1]!, Object.keys(set.paths)) ?? `add \`${m[1]}: PATH\` under \`paths\``));
        }
      }
      this.validateSets.set(name, { command: set.command, paths: set.paths, pos, raw: set });
    }
  }

  checkNotifies(): void {
    const names = [...this.handlers.keys()];
    for (const n of this.notifies) {
      n.names.forEach((name, i) => {
        if (!this.handlers.has(name) && !this.badHandlers.has(name)) {
          this.errors.push(new ConfigError(`notify names unknown handler \`${name}\``, n.posOf(i), didYouMean(name, names) ?? (names.length ? `handlers: ${names.join(', ')}` : 'no handlers are defined')));
        }
      });
    }
  }

  /** A file step's `live_by` names the step that applies its lines live (engine/live-changes.ts). */
  checkLiveBy(): void {
    const names = this.steps.flatMap((s) => (s.name === undefined ? [] : [s.name]));
    for (const s of this.steps) {
      const by = (s.body as { live_by?: unknown } | null)?.live_by;
      if (typeof by !== 'string' || names.includes(by)) continue;
      this.errors.push(new ConfigError(`live_by names no step \`${by}\``, s.posOf(['live_by'], 'value'), didYouMean(by, names) ?? 'give the `name` of the later step that applies these lines live'));
    }
  }

  private issues(src: YamlSource, at: Path, issues: z.core.$ZodIssue[], keysAt: (p: Path) => string[] | undefined): ConfigError[] {
    return zodIssuesToConfigErrors(issues, (p, w) => src.posOf([...at, ...p], w), keysAt, (p) => src.rawAt([...at, ...p]));
  }
}

function bodyPos(posOf: PosOf, prefix: YamlPath): (path: Path, at?: 'key' | 'value') => SourcePos {
  return (p, at) => posOf([...prefix, ...p], at);
}

/**
 * Loads `files` in order (a host's playbooks) and concatenates their steps. Throws
 * ConfigErrors listing every problem found.
 */
export async function loadPlaybooks(files: string[], kinds: StepKinds): Promise<Playbook> {
  const loader = new Loader(kinds);
  for (const f of files) await loader.loadFile(path.resolve(f), [], []);
  loader.checkNotifies();
  loader.checkLiveBy();
  if (loader.errors.length > 0) throw new ConfigErrors(loader.errors);
  return {
    files: loader.files,
    steps: loader.steps,
    handlers: loader.handlers,
    validateSets: new Map([...loader.validateSets].map(([k, { command, paths, pos }]) => [k, { command, paths, pos }])),
    vars: loader.vars,
    varPos: loader.varPos,
    varKeyPos: loader.varKeyPos,
    health: loader.health,
  };
}

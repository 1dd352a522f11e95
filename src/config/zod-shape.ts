/**
 * Reads the shape of a zod 4 schema at a path, so loaders can check the KEYS of a step
 * body before any rendering and suggest the right spelling. Defensive: wrappers
 * (optional, nullable, default, pipe, readonly, lazy...) are unwrapped; anything we do not
 * understand yields `undefined` ("cannot tell"), never a false error.
 */
import type { z } from 'zod';

type AnyDef = { type?: string; [k: string]: unknown };

function defOf(schema: unknown): AnyDef | undefined {
  const zod = (schema as { _zod?: { def?: AnyDef } } | undefined)?._zod;
  return zod?.def;
}

/** Strips wrappers until an object, record, array, union or leaf. */
export function unwrap(schema: unknown, depth = 0): unknown {
  const def = defOf(schema);
  if (!def || depth > 20) return schema;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return unwrap(def.innerType, depth + 1);
    case 'pipe':
      // A transform's input side is what the user writes.
      return unwrap(defOf(def.in)?.type === 'transform' ? def.out : def.in, depth + 1);
    case 'lazy':
      return typeof def.getter === 'function' ? unwrap((def.getter as () => unknown)(), depth + 1) : schema;
    default:
      return schema;
  }
}

/** The child schemas reached by following `seg` (several for unions). */
function childSchemas(schema: unknown, seg: string | number): unknown[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (!def) return [];
  switch (def.type) {
    case 'object': {
      const shape = (def.shape ?? {}) as Record<string, unknown>;
      if (typeof seg === 'string' && seg in shape) return [shape[seg]];
      return def.catchall && defOf(def.catchall)?.type !== 'never' ? [def.catchall] : [];
    }
    case 'record':
      return [def.valueType];
    case 'array':
      return typeof seg === 'number' ? [def.element] : [];
    case 'union':
      return ((def.options ?? []) as unknown[]).flatMap((o) => childSchemas(o, seg));
    case 'intersection':
      return [...childSchemas(def.left, seg), ...childSchemas(def.right, seg)];
    default:
      return [];
  }
}

export function schemaAt(schema: unknown, path: readonly (string | number)[]): unknown[] {
  let current: unknown[] = [schema];
  for (const seg of path) current = current.flatMap((s) => childSchemas(s, seg));
  return current;
}

/**
 * The keys valid in the object(s) a schema describes: undefined when it is not a closed
 * object (a record, `z.looseObject`, a leaf) and so any key is acceptable.
 */
export function objectKeys(schema: unknown): string[] | undefined {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (!def) return undefined;
  if (def.type === 'object') {
    const catchall = defOf(def.catchall)?.type;
    if (def.catchall && catchall !== 'never') return undefined;
    return Object.keys((def.shape ?? {}) as object);
  }
  if (def.type === 'union') {
    const all = new Set<string>();
    for (const option of (def.options ?? []) as unknown[]) {
      const keys = objectKeys(option);
      if (!keys) {
        if (defOf(unwrap(option))?.type === 'object' || defOf(unwrap(option))?.type === 'record') return undefined;
        continue;
      }
      keys.forEach((k) => all.add(k));
    }
    return all.size > 0 ? [...all] : undefined;
  }
  if (def.type === 'intersection') {
    const l = objectKeys(def.left);
    const r = objectKeys(def.right);
    return l && r ? [...l, ...r] : undefined;
  }
  return undefined;
}

/** Valid keys at `path` inside `schema` (union of all matches), or undefined if unknown. */
export function validKeysAt(schema: z.ZodType | unknown, path: readonly (string | number)[]): string[] | undefined {
  const schemas = schemaAt(schema, path);
  if (schemas.length === 0) return undefined;
  const all = new Set<string>();
  for (const s of schemas) {
    const keys = objectKeys(s);
    if (!keys) return undefined;
    keys.forEach((k) => all.add(k));
  }
  return [...all];
}

/**
 * Unknown keys anywhere in `value` per the schema's object shapes: [path to the key, valid
 * keys there]. Only keys are checked, so values with `{{ }}` not yet rendered are fine.
 */
export function unknownKeys(schema: unknown, value: unknown, path: (string | number)[] = []): { path: (string | number)[]; valid: string[] }[] {
  const found: { path: (string | number)[]; valid: string[] }[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      for (const child of childSchemas(schema, i)) found.push(...unknownKeys(child, item, [...path, i]));
    });
    return dedupe(found);
  }
  if (value === null || typeof value !== 'object') return found;
  const valid = objectKeys(schema);
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (valid && !valid.includes(key)) {
      found.push({ path: [...path, key], valid });
      continue;
    }
    for (const sub of childSchemas(schema, key)) found.push(...unknownKeys(sub, child, [...path, key]));
  }
  return dedupe(found);
}

function dedupe<T extends { path: (string | number)[] }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = JSON.stringify(i.path);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

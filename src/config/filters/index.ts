/**
 * The Jinja and Ansible filters provision adds to nunjucks, one family per file. They
 * replace nunjucks' own where the semantics differ (`sort`, `unique`, `select`, `indent`,
 * `int`, `selectattr`...: keyword arguments and Jinja's defaults).
 */
import type nunjucks from 'nunjucks';
import { FilterError } from './args.js';
import { collectionFilters } from './collections.js';
import { hashFilters } from './hash.js';
import { jsonFilters } from './json.js';
import { stringFilters } from './strings.js';
import { TESTS } from './tests.js';
import { yamlFilters } from './yaml.js';

export { FilterError };

type Env = nunjucks.Environment & { filters: Record<string, unknown>; tests: Record<string, unknown>; addTest(name: string, f: (...args: never[]) => boolean): void };

export function addJinjaFilters(env: nunjucks.Environment): void {
  const e = env as Env;
  const all: Record<string, unknown> = { ...jsonFilters, ...yamlFilters, ...stringFilters, ...hashFilters, ...collectionFilters(e) };
  for (const [name, f] of Object.entries(all)) env.addFilter(name, f as (...args: unknown[]) => unknown);
  for (const [name, t] of Object.entries(TESTS)) if (/^\w+$/.test(name)) e.addTest(name, t);
}

/** Every filter name the environment knows (for "unknown filter, did you mean"). */
export function filterNames(env: nunjucks.Environment): string[] {
  return Object.keys((env as Env).filters);
}

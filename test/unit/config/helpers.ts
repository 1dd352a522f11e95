import path from 'node:path';
import { expect } from 'vitest';
import { ConfigError, ConfigErrors } from '../../../src/config/errors.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/config');
/** How loaders print a fixture path (relative to the working directory). */
export const shown = (rel: string): string => path.relative(process.cwd(), path.join(FIXTURES, rel));

/** The ConfigErrors a promise rejects with (fails the test if it resolves). */
export async function configErrors(p: Promise<unknown>): Promise<ConfigError[]> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a config error').toBeInstanceOf(ConfigErrors);
  return (err as ConfigErrors).errors;
}

/** The ConfigError a synchronous call throws (fails the test if it returns or throws another error). */
export function thrown(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** Test helper: Facts with only the given maps filled. */
import { emptyFacts, type Facts } from '../../../src/resources/facts/types.js';
import type { DiffContext } from '../../../src/resources/types.js';

export function facts(partial: Partial<Facts>): Facts {
  return { ...emptyFacts(), ...partial };
}

export const dctx: DiffContext = { step: 3, withContent: false };

export const sctx = {
  nonce: 'n0nce',
  stagePath: (dest: string) => dest.replace(/[^/]+$/, (b) => `.provision-n0nce.${b}`),
};

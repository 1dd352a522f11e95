/** The budget helper of the real-host tests: a budget that runs out names the phase. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { budget, phase, timeoutFor, within } from '../support/budget.js';

describe('within: budgets that name the phase', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sums the work and gives vitest a later timeout than the budget', () => {
    expect(budget(60_000, 2 * 30_000)).toBe(120_000);
    expect(timeoutFor(120_000)).toBeGreaterThan(120_000);
  });

  it('returns what the test returns when it finishes inside the budget', async () => {
    const run = within(1000, async (mark) => {
      mark('only phase');
      return 42;
    });
    await expect(run()).resolves.toBe(42);
  });

  it('rejects naming the current phase and the earlier ones, with their durations', async () => {
    const run = within(300_000, async () => {
      phase('first apply');
      await new Promise((r) => setTimeout(r, 20_000));
      phase('provision check inv.yaml'); // as runCli marks it
      await new Promise(() => undefined); // hangs
    });
    const settled = run().catch((e: Error) => e);
    await vi.advanceTimersByTimeAsync(300_000);
    const err = await settled;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      'budget of 300 s ran out in phase "provision check inv.yaml" (280 s in it; before it: start 0 s, first apply 20 s)',
    );
  });

  it('a phase marked outside any budgeted test is ignored', () => {
    expect(() => phase('nothing running')).not.toThrow();
  });
});

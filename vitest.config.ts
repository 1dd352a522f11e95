import { defineConfig } from 'vitest/config';

/**
 * Three tiers (vitest projects), all run by `vitest run` (`npm test`):
 * - unit: pure code and generated shell run in a real `sh` on temp dirs; no dist/, no
 *   compile, no host touched: `npx vitest run --project unit` (or `npm run test:unit`).
 * - root: unit tests that change THIS machine as root (real users and groups created and
 *   removed with useradd/groupadd); skipped when not root.
 * - system: the built CLI (dist/, built by the tier's global setup) against real sshd
 *   processes, real hosts and real HAProxy.
 * A project's global setup runs only when one of its files is selected.
 */
const UNIT = 'test/unit/**/*.test.ts';
const ROOT = 'test/root/**/*.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Real sshd processes and real hosts: files run in parallel, but not too many at once
    // on a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      // No module isolation between unit files: each worker imports src/ once instead of once
      // per file (CPU 30 s -> 12 s for the tier). Unit tests keep no global state: fake
      // timers are restored after each test, nothing is mocked at module level.
      { extends: true, test: { name: 'unit', include: [UNIT], isolate: false, globalSetup: ['test/setup/controller-packages.ts'] } },
      { extends: true, test: { name: 'root', include: [ROOT], globalSetup: ['test/setup/controller-packages.ts'] } },
      { extends: true, test: { name: 'system', include: ['test/**/*.test.ts'], exclude: [UNIT, ROOT, '**/node_modules/**'], globalSetup: ['test/global-setup.ts'] } },
    ],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Real sshd processes and real hosts: files run in parallel, but not too many at once
    // on a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
  },
});

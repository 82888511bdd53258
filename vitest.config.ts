import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons belong in child processes, not worker threads (vitest docs: pool).
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons belong in child processes, not worker threads (vitest docs: pool).
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // A real PostgreSQL server for the shared events store's tests (see the file).
    globalSetup: ['test/postgres-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

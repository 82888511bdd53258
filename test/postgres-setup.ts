// Vitest global setup: a real PostgreSQL server for the tests of the shared events store (see
// postgres-server.ts), stopped after the run. AFFINITY_TEST_POSTGRES_URL points the tests at a server of
// your own instead. Without either, the PostgreSQL tests skip loudly, unless AFFINITY_REQUIRE_POSTGRES=1
// (CI) makes that a failure (test/stores.ts).
import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    postgresProblem: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const given = process.env.AFFINITY_TEST_POSTGRES_URL;
  if (given) {
    project.provide('postgresUrl', given);
    project.provide('postgresProblem', '');
    return undefined;
  }
  const server = await startPostgres();
  project.provide('postgresUrl', 'url' in server ? server.url : '');
  project.provide('postgresProblem', 'problem' in server ? server.problem : '');
  return 'url' in server ? server.stop : undefined;
}

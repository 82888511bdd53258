// The events stores the tests run against: a fresh SQLite file, and a fresh database on the PostgreSQL
// server test/postgres-setup.ts started. Without a server the PostgreSQL cases skip loudly, and under
// AFFINITY_REQUIRE_POSTGRES=1 (CI) they fail instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';

/** Whether the PostgreSQL cases run: false (with a loud warning) only where skipping is allowed. */
export function postgresAvailable(): boolean {
  if (inject('postgresUrl') || process.env.AFFINITY_REQUIRE_POSTGRES === '1') return true;
  console.warn(`SKIPPED PostgreSQL events-store tests: ${inject('postgresProblem')}`);
  return false;
}

/** A new empty database on the test server (call only where postgresAvailable()). */
export async function freshPostgres(): Promise<string> {
  const url = inject('postgresUrl');
  if (!url) {
    throw new Error(`PostgreSQL is required here but not available: ${inject('postgresProblem')}`);
  }
  const { default: pg } = await import('pg');
  const name = `affinity_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return url.replace(/\/[^/]*$/, `/${name}`);
}

/** A temporary directory removed after the file's tests. */
export function tempDir(prefix = 'affinity-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

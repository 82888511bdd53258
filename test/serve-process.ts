// `affinity serve` in a process of its own (the built CLI), for the tests that kill it with -9.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'affinity.js');

/** Starts `affinity serve ARGS --port PORT` on 127.0.0.1 and waits until `probe` answers 200. */
export async function startServe(args: string[], port: number, probe = '/health/ready'): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [bin, 'serve', ...args, '--port', String(port), '--host', '127.0.0.1'], { env: { ...process.env, LOG_LEVEL: 'warn' } });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  child.stdout!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (await fetch(`${url}${probe}`).then((r) => r.ok, () => false)) return { child, url };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not start: ${output}`);
}

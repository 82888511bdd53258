// A headless Chromium for `affinity report --png` (and the dashboard's browser tests): playwright-core
// driving the system's Chromium, kept off the network (no background requests, updates or sync).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AffinityError, ErrorCode } from '../core/errors.js';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The Chromium to drive: AFFINITY_CHROMIUM, or the first of the usual places; undefined when there is none. */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.AFFINITY_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
}

// playwright-core's types, without making it a dependency of everything that imports this module.
type Playwright = typeof import('playwright-core');
export type Browser = Awaited<ReturnType<Playwright['chromium']['launchPersistentContext']>>;

/** A fresh profile each time (removed on close), so nothing carries over between runs. */
export async function launchChromium(): Promise<{ context: Browser; close(): Promise<void> }> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new AffinityError('no Chromium found: install it (Debian: apt-get install chromium) or set AFFINITY_CHROMIUM to its path', ErrorCode.Unsupported);
  let playwright: Playwright;
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new AffinityError('rendering PNGs needs playwright-core: npm install playwright-core', ErrorCode.Unsupported);
  }
  const profile = await mkdtemp(join(tmpdir(), 'affinity-chromium-'));
  const context = await playwright.chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

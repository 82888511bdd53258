/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// bench/dashboard: the dashboard against the demo shop (`affinity demo`, its own process), measured against
// the goals in one run:
//   - first load: bytes on the wire (gzip) of the page, its script and its style sheet (goal < 300 KB);
//   - each page interactive: from navigation to every chart drawn, median and worst of --loads fresh loads
//     in headless Chromium (goal < 1 s);
//   - the live overview's cost: the server's CPU (from /proc) per overview poll, over a burst of polls,
//     as a share of a core at one poll every 2 s (goal: under 1%); and the idle server over --seconds.
//   npm run bench:dashboard -- [--loads 5] [--seconds 30]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../src/cli/browser.js';

const argv = process.argv.slice(2);
const arg = (n: string, f: string) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : f);
const loads = Number(arg('loads', '5'));
const seconds = Number(arg('seconds', '30'));
const port = Number(arg('port', '8391'));
const root = fileURLToPath(new URL('..', import.meta.url));
const base = `http://127.0.0.1:${port}`;
const PAGES = ['overview', 'customer', 'segments', 'churn', 'campaigns', 'lifetime', 'offers', 'quality'];

console.log('starting the demo (training every model kind)...');
const server = spawn(process.execPath, ['bin/affinity.js', 'demo', '--port', String(port), '--host', '127.0.0.1'], { cwd: root, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve, reject) => {
  let out = '';
  server.stdout!.on('data', (b: Buffer) => ((out += b), out.includes('Press Ctrl+C') && resolve()));
  server.once('exit', (code) => reject(new Error(`the demo exited (${code})`)));
});

/** Bytes on the wire for a GET with gzip accepted (what a browser downloads). */
const wireBytes = (path: string) =>
  new Promise<number>((resolve, reject) => {
    request(`${base}${path}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      let n = 0;
      res.on('data', (b: Buffer) => (n += b.length));
      res.on('end', () => resolve(n));
    }).on('error', reject).end();
  });

/** The server's CPU time so far, in seconds (utime + stime from /proc, in clock ticks of 10 ms). */
const cpuSeconds = () => {
  const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const browser = await launchChromium();
try {
  const files = { page: await wireBytes('/dashboard/'), script: await wireBytes('/dashboard/app.js'), style: await wireBytes('/dashboard/app.css') };
  const total = files.page + files.script + files.style;
  console.log(`\nfirst load, gzip on the wire: ${(total / 1024).toFixed(1)} KB (page ${(files.page / 1024).toFixed(1)}, script ${(files.script / 1024).toFixed(1)}, style ${(files.style / 1024).toFixed(1)}): ${((100 * total) / (300 * 1024)).toFixed(0)}% of the 300 KB goal`);

  // The floor under every figure below: a fresh tab loading a tiny JSON answer from the same server.
  const floor: number[] = [];
  for (let i = 0; i < loads; i++) {
    const page = await browser.context.newPage();
    const t0 = performance.now();
    await page.goto(`${base}/health/live`);
    floor.push(performance.now() - t0);
    await page.close();
  }
  floor.sort((a, b) => a - b);
  console.log(`\na fresh tab loading /health/live (the floor): median ${floor[Math.floor(loads / 2)].toFixed(0)} ms`);
  console.log(`\neach page, ${loads} fresh loads (new tab, nothing cached): navigation to every chart drawn`);
  console.log('page        median ms   worst ms   charts');
  for (const id of PAGES) {
    const times: number[] = [];
    let charts = 0;
    for (let i = 0; i < loads; i++) {
      const page = await browser.context.newPage();
      await page.route('**/*', (route) => route.continue({ headers: { ...route.request().headers(), 'cache-control': 'no-cache' } }));
      const t0 = performance.now();
      await page.goto(`${base}/dashboard/#/${id}`);
      await page.waitForSelector(`main[data-page="${id}"][data-ready]`);
      await page.waitForFunction(() => [...document.querySelectorAll('figure[data-chart]')].every((f) => f.querySelector('.plot svg')));
      times.push(performance.now() - t0);
      charts = await page.locator('figure[data-chart]').count();
      await page.close();
    }
    times.sort((a, b) => a - b);
    console.log(`${id.padEnd(12)}${times[Math.floor(times.length / 2)].toFixed(0).padStart(9)}${times.at(-1)!.toFixed(0).padStart(11)}${String(charts).padStart(9)}`);
  }

  // The overview's cost per poll, from a burst of polls sent by the page itself (the server's CPU over the
  // burst, less its idle rate over the same time), times one poll every 2 s. Idle windows of a running
  // server vary by more than 1% of a core (timers, GC), so two 30 s windows cannot resolve the difference.
  const page = await browser.context.newPage();
  await page.goto(`${base}/dashboard/#/overview`);
  await page.waitForSelector('main[data-page="overview"][data-ready]');
  const idleStart = cpuSeconds(), idleT0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const idleRate = (cpuSeconds() - idleStart) / ((performance.now() - idleT0) / 1000);
  const burst = 1000;
  const t0 = performance.now(), c0 = cpuSeconds();
  await page.evaluate(async (n) => {
    for (let i = 0; i < n; i++) await (await fetch('/v1/insights/overview', { cache: 'no-store' })).json();
  }, burst);
  const elapsed = (performance.now() - t0) / 1000;
  const perPoll = (cpuSeconds() - c0 - idleRate * elapsed) / burst;
  await page.close();
  console.log(`\nthe live overview: ${(perPoll * 1000).toFixed(2)} ms of server CPU a poll (${burst} polls in ${elapsed.toFixed(1)} s), so one poll every 2 s adds ${((100 * perPoll) / 2).toFixed(3)}% of a core (goal < 1%); the idle server itself used ${(100 * idleRate).toFixed(2)}% over ${seconds} s`);
} finally {
  await browser.close();
  server.kill('SIGTERM');
}

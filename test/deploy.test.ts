// deploy/Dockerfile and deploy/kubernetes.yaml, checked without a Docker engine or a cluster (these machines
// have neither): parsed, and held against what the server really does: the flags `affinity serve`
// accepts, the health routes it serves, the files the image copies, a non-root user.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { buildApp } from '../src/server/index.js';
import { serveCommand } from '../src/cli/commands/serve.js';

const root = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Dockerfile instructions: line continuations joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** The flags in an argument list that `affinity serve --help` does not document. */
function unknownFlags(args: string[]): string[] {
  return args.filter((a) => a.startsWith('--')).filter((flag) => !new RegExp(`(^|[\\s[])${flag}([\\s=\\]]|$)`, 'm').test(serveCommand.help));
}

async function routes(): Promise<string> {
  const app = await buildApp({ analytics: {} });
  const printed = app.printRoutes({ commonPrefix: false });
  await app.close();
  return printed;
}

describe('deploy/Dockerfile', () => {
  const steps = instructions(read('deploy/Dockerfile'));
  const stages = steps.filter((s) => s.op === 'FROM').map((s) => s.args.split(/\s+AS\s+/i)[1]);
  const final = steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));

  it('is multi-stage: the runtime stage copies built output from the build stage only, no compiler', () => {
    expect(stages).toEqual(['build', 'runtime']);
    expect(steps.find((s) => s.op === 'FROM')!.args).toMatch(/^node:20/);
    expect(final[0].args).toMatch(/^node:20-bookworm-slim/);
    const copies = final.filter((s) => s.op === 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) expect(c.args, c.args).toMatch(/^--from=build /);
    expect(copies.map((c) => c.args).join('\n')).toContain('build/Release/affinity.node'); // the prebuilt addon
    expect(final.some((s) => s.op === 'RUN' && /apt-get|gcc|g\+\+|node-gyp/.test(s.args))).toBe(false);
  });

  it('copies files that exist, in the build stage', () => {
    const build = steps.slice(0, steps.map((s) => s.op).lastIndexOf('FROM'));
    for (const c of build.filter((s) => s.op === 'COPY')) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) expect(existsSync(join(root, source)), source).toBe(true);
    }
    expect(read('.dockerignore')).toMatch(/^node_modules$/m);
  });

  it('runs as a non-root user, health-checks /health/ready and starts affinity serve with flags it accepts', async () => {
    expect(final.find((s) => s.op === 'USER')?.args).toBe('node');
    const health = final.find((s) => s.op === 'HEALTHCHECK')!.args;
    expect(health).toContain('/health/ready');
    const entry = JSON.parse(final.find((s) => s.op === 'ENTRYPOINT')!.args) as string[];
    const cmd = JSON.parse(final.find((s) => s.op === 'CMD')!.args) as string[];
    expect(entry).toEqual(['node', 'bin/affinity.js', 'serve']);
    expect(unknownFlags(cmd)).toEqual([]);
    const port = cmd[cmd.indexOf('--port') + 1];
    expect(final.find((s) => s.op === 'EXPOSE')?.args).toBe(port);
    expect(health).toContain(`:${port}/`);
    expect(await routes()).toMatch(/\/health\/ready/);
  });
});

describe('deploy/kubernetes.yaml', () => {
  const docs = parseAllDocuments(read('deploy/kubernetes.yaml'));
  for (const d of docs) expect(d.errors).toEqual([]);
  const objects = docs.map((d) => d.toJS()) as any[];
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const pod = deployment.spec.template.spec;
  const server = pod.containers.find((c: any) => c.name === 'affinity');

  it('is valid Kubernetes objects: apiVersion, kind, metadata.name on each, the selector matching the pods', () => {
    expect(objects.map((o) => o.kind)).toEqual(['Secret', 'PersistentVolumeClaim', 'Deployment', 'Service']);
    for (const o of objects) {
      expect(o.apiVersion, o.kind).toMatch(/^(v1|apps\/v1)$/);
      expect(o.metadata?.name, o.kind).toMatch(/^[a-z0-9-]+$/);
    }
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    expect(objects.find((o) => o.kind === 'Service').spec.selector).toEqual(deployment.spec.template.metadata.labels);
  });

  it('probes the routes the server has, on the port it listens on, and starts it with flags it accepts', async () => {
    const printed = await routes();
    expect(server.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(server.livenessProbe.httpGet.path).toBe('/health/live');
    expect(printed).toMatch(/\/health\/live/);
    expect(unknownFlags(server.args)).toEqual([]);
    const port = Number(server.args[server.args.indexOf('--port') + 1]);
    expect(server.ports.find((p: any) => p.name === server.readinessProbe.httpGet.port).containerPort).toBe(port);
  });

  it('mounts the model files read-only, runs as non-root, drains on rollout, and reloads instead of restarting', () => {
    const model = server.args[server.args.indexOf('--model') + 1].split('=')[1];
    const mount = server.volumeMounts.find((m: any) => model.startsWith(m.mountPath + '/'));
    expect(mount.readOnly).toBe(true);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10 + 10); // preStop wait + the server's 10 s drain
    const reloader = pod.containers.find((c: any) => c.name === 'reloader');
    const script = reloader.command.join(' ');
    expect(script).toContain(model);
    expect(script).toMatch(/\/v1\/models\/recs\/reload/);
    expect(server.args).toContain(`recs=${model}`);
    expect(reloader.env[0].valueFrom.secretKeyRef).toEqual(server.env[0].valueFrom.secretKeyRef);
  });
});

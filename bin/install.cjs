#!/usr/bin/env node
// `npm install` of affinity: load the prebuilt binary for this platform when the package has one, and say
// so; otherwise say why and compile from source with node-gyp (python3, make and a C++20 compiler,
// a few minutes), with the compiler's output shown rather than a silent wait.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const platform = `${process.platform}-${process.arch}`;
const libc = process.report && process.report.getReport().header.glibcVersionRuntime ? 'glibc' : process.platform === 'linux' ? 'musl' : '';
const fromSource = /^(1|true)$/i.test(process.env.npm_config_build_from_source || '') || process.env.npm_config_build_from_source === '';

function prebuilt() {
  try {
    return require('node-gyp-build').path(root);
  } catch {
    return undefined;
  }
}

const found = fromSource ? undefined : prebuilt();
if (found) {
  // node-gyp-build also finds a local build/Release: a checkout that was built before counts as ready.
  console.log(`affinity: using ${path.relative(root, found)} for ${platform}${libc ? ` (${libc})` : ''}, Node ${process.versions.node}`);
  process.exit(0);
}
console.log(
  fromSource
    ? 'affinity: building the native addon from source (--build-from-source)'
    : `affinity: no prebuilt binary for ${platform}${libc ? ` (${libc})` : ''} in this package: building from source (python3, make and a C++20 compiler; a few minutes)`,
);
// npm names its bundled node-gyp in the environment of install scripts; a local one otherwise.
let nodeGyp = process.env.npm_config_node_gyp ? [process.execPath, process.env.npm_config_node_gyp] : undefined;
if (!nodeGyp)
  try {
    nodeGyp = [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    nodeGyp = ['node-gyp'];
  }
const result = spawnSync(nodeGyp[0], [...nodeGyp.slice(1), 'rebuild'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(
    `affinity: the build from source failed${result.error ? ` (${result.error.message})` : ''}. It needs python3, make and g++ >= 12 or clang >= 15 ` +
      '(Debian/Ubuntu: apt-get install python3 make g++).',
  );
  process.exit(result.status || 1);
}

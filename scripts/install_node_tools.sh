#!/usr/bin/env bash
# Installs the pinned Node tools of this repository (package.json / package-lock.json):
# the Solidity compiler (npm "solc", i.e. solcjs) and the anvil dev node, plus what only the
# tests use: the Ethereum Attestation Service contracts (with the OpenZeppelin contracts they
# import) and solc 0.8.29 under the alias "solc-0.8.29" (EAS pins that exact compiler).
# Idempotent: when node_modules already holds the pinned versions it returns at once.
#
# Usage: scripts/install_node_tools.sh [--force]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "install_node_tools: node and npm (Node >= 18) are required; e.g. apt-get install nodejs npm" >&2
    exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
    echo "install_node_tools: Node >= 18 is required, found $(node --version)" >&2
    exit 1
fi

# Checks that every devDependency in package.json is installed at its exact pinned version
# and that anvil's platform binary is present. Prints what is missing; exit 1 if anything is.
check() {
    node - <<'JS'
const fs = require('fs');
const path = require('path');
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const missing = [];
for (const [name, spec] of Object.entries(pkg.devDependencies || {})) {
  // an alias "npm:<package>@<version>" installs <package> at <version> under <name>
  const alias = /^npm:(?:@[^@/]+\/)?[^@]+@(.+)$/.exec(spec);
  const version = alias ? alias[1] : spec;
  try {
    const got = JSON.parse(fs.readFileSync(path.join('node_modules', name, 'package.json'), 'utf8')).version;
    if (got !== version) missing.push(`${name}@${version} (have ${got})`);
  } catch (e) {
    missing.push(`${name}@${version}`);
  }
}
const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
const anvil = pkg.devDependencies['@foundry-rs/anvil'];
if (anvil && arch) {
  const bin = path.join('node_modules', '@foundry-rs', `anvil-${process.platform}-${arch}`, 'bin',
                        process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!fs.existsSync(bin)) missing.push(`anvil binary ${bin}`);
}
if (missing.length) { console.log(missing.join(', ')); process.exit(1); }
JS
}

if [ "${1:-}" != "--force" ] && check >/dev/null 2>&1; then
    echo "install_node_tools: node_modules already has the pinned versions"
    exit 0
fi

# --ignore-scripts: nothing we need runs at install time (anvil's binary comes in its
# platform package); this also keeps installs free of network downloads beyond npm itself.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

if ! missing="$(check)"; then
    echo "install_node_tools: still missing after npm ci: $missing" >&2
    exit 1
fi
chmod +x node_modules/@foundry-rs/anvil-*/bin/anvil 2>/dev/null || true
echo "install_node_tools: installed $(node -p "Object.entries(require('./package.json').devDependencies).map(([n,v]) => n + '@' + v).join(', ')")"

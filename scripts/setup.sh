#!/usr/bin/env bash
# Installs everything flwr-ts needs on a fresh machine, idempotently:
#   - pnpm at the version pinned in package.json's "packageManager";
#   - the workspace's packages from the committed lockfile (better-sqlite3
#     compiles its native addon here: about a minute the first time);
#   - the pinned Python Flower (interop/flwr-version.txt) in .venv, which the
#     interoperability tests use as the reference implementation.
set -euo pipefail
cd "$(dirname "$0")/.."

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$pnpm_version" ]; then
  echo "setup: installing pnpm@$pnpm_version"
  npm install -g "pnpm@$pnpm_version" >/dev/null
fi

# node-gyp cannot download Node's headers on machines without internet access;
# use the local ones when the system has them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
pnpm install --frozen-lockfile

flwr_version=$(tr -d '[:space:]' < interop/flwr-version.txt)
if ! .venv/bin/python -c "import flwr, sys; sys.exit(flwr.__version__ != '$flwr_version')" 2>/dev/null; then
  echo "setup: installing Python flwr==$flwr_version into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "flwr==$flwr_version"
fi
echo "setup: done (node $(node --version), pnpm $pnpm_version, Python flwr $flwr_version)"

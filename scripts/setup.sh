#!/usr/bin/env bash
# Installs everything flwr-ts needs on a fresh machine, idempotently:
#   - pnpm at the version pinned in package.json's "packageManager";
#   - the workspace's packages from the committed lockfile (better-sqlite3
#     compiles its native addon here: about a minute the first time);
#   - the Python Flower releases used as reference implementations, each in its
#     own venv (interop/python.ts locates them):
#       .venv/       flwr from interop/flwr-version.txt      (1.29: gRPC everything)
#       .venv-1.42/  flwr from interop/flwr-1.42-version.txt (newest: HTTP Fleet/Control)
#       .venv-1.39/  flwr from interop/flwr-1.39-version.txt (last gRPC Fleet SuperLink/SuperNode)
#     A venv whose flwr already has the pinned version is left alone; the
#     missing ones are installed in parallel with each other and with pnpm;
#   - the Debian packages the tests start for real (apt-get, only those missing):
#     postgresql (the PostgreSQL LinkState's server; tests run their own cluster
#     with initdb in a temporary directory) and chromium (the browser SuperNode's
#     e2e drives it through puppeteer-core; nothing downloads a browser).
set -euo pipefail
cd "$(dirname "$0")/.."

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$pnpm_version" ]; then
  echo "setup: installing pnpm@$pnpm_version"
  npm install -g "pnpm@$pnpm_version" >/dev/null
fi

# "<venv dir> <pin file>" per Python reference.
references=(
  ".venv interop/flwr-version.txt"
  ".venv-1.42 interop/flwr-1.42-version.txt"
  ".venv-1.39 interop/flwr-1.39-version.txt"
)

logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# install_flwr VENV VERSION: (re)creates VENV and installs flwr==VERSION into it
# with pip's normal dependency resolution; output goes to $logdir/<venv>.log.
install_flwr() {
  local venv=$1 version=$2
  python3 -m venv "$venv" &&
    "$venv/bin/pip" install --quiet --disable-pip-version-check "flwr==$version" &&
    "$venv/bin/python" -c "import flwr, sys; sys.exit(flwr.__version__ != '$version')"
}

pids=()
names=()
summary=()

# Debian packages: a binary each must provide, and the package that provides it.
system_packages=()
command -v chromium >/dev/null 2>&1 || system_packages+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || system_packages+=(postgresql)
if [ "${#system_packages[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${system_packages[*]} with apt-get (in the background)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${system_packages[@]}") \
      >"$logdir/apt.log" 2>&1 &
    pids+=("$!")
    names+=("apt ${system_packages[*]}")
  else
    echo "setup: ${system_packages[*]} missing and apt-get is not usable here (not root?); install them: sudo apt-get install ${system_packages[*]}" >&2
    exit 1
  fi
fi
for ref in "${references[@]}"; do
  read -r venv pin <<<"$ref"
  version=$(tr -d '[:space:]' < "$pin")
  summary+=("$venv=flwr $version")
  if "$venv/bin/python" -c "import flwr, sys; sys.exit(flwr.__version__ != '$version')" 2>/dev/null; then
    continue
  fi
  echo "setup: installing Python flwr==$version into $venv (in the background)"
  install_flwr "$venv" "$version" >"$logdir/${venv#.}.log" 2>&1 &
  pids+=("$!")
  names+=("$venv flwr==$version")
done

# node-gyp cannot download Node's headers on machines without internet access;
# use the local ones when the system has them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
pnpm_status=0
pnpm install --frozen-lockfile || pnpm_status=$?

failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    venv=${names[$i]%% *}
    echo "setup: installing ${names[$i]} failed:" >&2
    cat "$logdir/${venv#.}.log" >&2
    failed=1
  fi
done
if [ "$pnpm_status" -ne 0 ]; then
  echo "setup: pnpm install failed (exit $pnpm_status)" >&2
  exit "$pnpm_status"
fi
[ "$failed" -eq 0 ] || exit 1
echo "setup: done (node $(node --version), pnpm $pnpm_version, Python ${summary[*]})"

#!/usr/bin/env bash
# Install the end-to-end toolchain: real Open WebUI in its own cached venv, Debian Chromium,
# and playwright-core (no bundled browsers) in a cached node folder. Nothing goes into the repo.
#
# Idempotent and non-interactive; a second run is a quick no-op. Everything lands under
#   ${PIPEKIT_E2E_HOME:-$HOME/.cache/pipekit-e2e}/{owui-venv,node}
# tests/e2e/harness.py looks in the same place.
set -euo pipefail

OWUI_VERSION="${OWUI_VERSION:-0.12.4}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"          # CPU wheel on disk; never a CUDA build
PLAYWRIGHT_CORE_VERSION="${PLAYWRIGHT_CORE_VERSION:-1.65.1}"
E2E_HOME="${PIPEKIT_E2E_HOME:-$HOME/.cache/pipekit-e2e}"
OWUI_VENV="$E2E_HOME/owui-venv"
NODE_DIR="$E2E_HOME/node"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
STAMP="$OWUI_VENV/.pipekit-e2e-installed"
WANT="open-webui==$OWUI_VERSION torch==$TORCH_VERSION"

export CI="${CI:-true}" DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm_config_fund=false npm_config_audit=false

log() { echo "install-e2e: $*" >&2; }
# pip warns once per package about this machine's local index folders; keep real messages.
quiet_pip() { "$OWUI_VENV/bin/python" -m pip install --quiet "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

# --- Debian Chromium + ChromeDriver, fonts for screenshots (CJK, or Korean shows as boxes), and
# the shared stores replicas use: redis-server and postgresql (tests start throwaway servers of
# their own on free ports: tests/conftest.py; the package's default cluster is not used).
APT_PACKAGES=(chromium chromium-driver fonts-liberation fonts-noto-cjk fonts-noto-color-emoji redis-server postgresql)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
  log "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
else
  log "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "chromium: $(/usr/bin/chromium --version 2>/dev/null)"
fi

# --- playwright-core (driver only; launches /usr/bin/chromium) ------------------------------
if [ -f "$NODE_DIR/node_modules/playwright-core/package.json" ] \
   && grep -q "\"version\": \"$PLAYWRIGHT_CORE_VERSION\"" "$NODE_DIR/node_modules/playwright-core/package.json"; then
  log "playwright-core $PLAYWRIGHT_CORE_VERSION present"
else
  command -v npm >/dev/null || { log "npm not found: install Node.js >= 18 (apt-get install nodejs npm)"; exit 1; }
  log "installing playwright-core@$PLAYWRIGHT_CORE_VERSION into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  [ -f "$NODE_DIR/package.json" ] || echo '{"name":"pipekit-e2e-node","private":true}' >"$NODE_DIR/package.json"
  npm install --prefix "$NODE_DIR" --no-save --silent "playwright-core@$PLAYWRIGHT_CORE_VERSION"
fi

# --- Open WebUI in its own venv ------------------------------------------------------------
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$OWUI_VENV/bin/open-webui" ]; then
  log "open-webui $OWUI_VERSION present in $OWUI_VENV"
else
  "$PYTHON" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))' \
    || { log "Open WebUI needs Python 3.11 or 3.12; set PYTHON=..."; exit 1; }
  log "creating $OWUI_VENV with $("$PYTHON" --version)"
  mkdir -p "$E2E_HOME"
  [ -x "$OWUI_VENV/bin/python" ] || "$PYTHON" -m venv "$OWUI_VENV"
  log "pip install torch==$TORCH_VERSION (CPU wheel from disk)"
  quiet_pip "torch==$TORCH_VERSION"
  PYTHONWARNINGS=ignore "$OWUI_VENV/bin/python" - <<EOF
import torch, sys
if torch.version.cuda:
    sys.exit(f"install-e2e: got a CUDA torch build ({torch.__version__}); expected the CPU wheel")
EOF
  log "pip install open-webui==$OWUI_VERSION (2-3 min)"
  # Keep the torch we just installed: pip must not swap it for a CUDA build.
  quiet_pip "open-webui==$OWUI_VERSION" "torch==$TORCH_VERSION"
  echo "$WANT" >"$STAMP"
  log "installed: $("$OWUI_VENV/bin/python" -c 'import importlib.metadata as m; print(*(f"{p}=={m.version(p)}" for p in ("open-webui", "torch")))')"
fi
log "ready: $E2E_HOME"

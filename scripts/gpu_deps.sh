#!/usr/bin/env bash
# Downloads (here, where apt reaches Debian) the .deb files of every non-torch build dependency
# into .gpudeps/, for a GPU machine that has CUDA libtorch but no Debian -dev packages and no
# network: carry .gpudeps there and run scripts/gpu_build.sh. See docs/gpu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpudeps
cd .gpudeps
apt-get download \
  libfftw3-dev libfftw3-single3 libfftw3-double3 libfftw3-long3 libfftw3-quad3 libfftw3-bin \
  libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 \
  libicu-dev libicu72 icu-devtools libfmt-dev libfmt9 libspdlog-dev libspdlog1.10 \
  nlohmann-json3-dev libcli11-dev libgtest-dev googletest libssl-dev libssl3
du -sh .

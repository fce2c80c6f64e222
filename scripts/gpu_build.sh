#!/usr/bin/env bash
# On the GPU machine (CUDA libtorch from pip, no Debian -dev packages, no OpenCV headers):
# unpacks the carried .gpudeps/*.deb into a private prefix and builds kvbench against the
# pip libtorch without OpenCV. Usage: scripts/gpu_build.sh [BUILD_DIR]. See docs/gpu.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-gpu}
P=/tmp/kvb-deps
if [ ! -d "$P/usr" ]; then
  mkdir -p "$P"
  for f in .gpudeps/*.deb; do dpkg -x "$f" "$P"; done
fi
TORCH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
export PKG_CONFIG_LIBDIR="$P/usr/lib/x86_64-linux-gnu/pkgconfig:$P/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$P"
export LD_LIBRARY_PATH="$P/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKVB_WITH_OPENCV=OFF \
  -DCMAKE_PREFIX_PATH="$TORCH;$P/usr" -DICU_ROOT="$P/usr" -DCMAKE_INCLUDE_PATH="$P/usr/include"
cmake --build "$BUILD" -j "$(nproc)"
echo "built $BUILD/kvbench; run with LD_LIBRARY_PATH=$P/usr/lib/x86_64-linux-gnu"

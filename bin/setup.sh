#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine: system packages, then npm ci.
#   chromium             headless rendering and the browser tests (never Playwright's own download)
#   mesa-vulkan-drivers, libegl1, libgles2, libegl-mesa0
#                        CPU Vulkan/GLES for WebGPU in Node (npm `webgpu`) tests
#   ffmpeg               MP4 camera streams of `export-dataset --format lerobot` (and its tests), `video` MP4s
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
need=()
[ -n "${VLALAB_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
for p in mesa-vulkan-drivers libegl1 libgles2 libegl-mesa0; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
npm ci --no-audit --no-fund

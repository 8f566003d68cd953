#!/usr/bin/env bash
# Packs what the GPU benchmark machine needs into .device/gpu/ (git-ignored), because that machine has
# no Node.js, no npm and no network: a Node binary, the llama.cpp source node-llama-cpp ships (to build
# ggml-cuda and llama-batched-bench there), the benchmark scripts bundled with esbuild, node-llama-cpp
# and its run-time dependencies (without the prebuilt libggml-cuda.so, which is rebuilt there), and a
# redis-server for the job-path benchmark. Everything must stay under the 64 MiB a call may carry.
#
#   bash bench/gpu/prepare.sh        # then run bench/gpu/run.sh on the GPU machine, carrying .device
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=.device/gpu
rm -rf "$DEST/js" "$DEST/redis"
mkdir -p "$DEST/js" "$DEST/redis"

if [ ! -s "$DEST/node.xz" ]; then
  echo "packing node $(node --version)"
  xz -T0 -6 -c "$(command -v node)" >"$DEST/node.xz"
fi

if [ ! -s "$DEST/llama-src.tar.xz" ]; then
  echo "packing the llama.cpp source from node-llama-cpp's git bundle"
  tmp=$(mktemp -d)
  git clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle "$tmp/llama.cpp"
  # Docs, sample models, the server's web UI and language bindings are not needed to build ggml-cuda
  # and llama-batched-bench.
  tar -C "$tmp" --exclude=.git --exclude=llama.cpp/docs --exclude=llama.cpp/models --exclude=llama.cpp/media \
    --exclude=llama.cpp/tools/server/public --exclude=llama.cpp/tools/server/webui \
    --exclude=llama.cpp/tools/server/tests --exclude=llama.cpp/gguf-py --exclude=llama.cpp/examples/llama.android \
    --exclude=llama.cpp/examples/llama.swiftui --exclude='*.gguf' -cf - llama.cpp | xz -T0 -6 >"$DEST/llama-src.tar.xz"
  rm -rf "$tmp"
fi

echo "bundling the benchmark scripts"
# In a bundle every module shares the bundle's import.meta.url, so a module's "am I the main script?"
# check (the widget builder has one) would fire: the banner makes argv[1] differ from any module URL.
npx esbuild bench/gpu/make-model.ts bench/gpu/engine-bench.ts bench/gpu/job-bench.ts bench/gpu/report.ts \
  bench/gpu/profile-summary.ts \
  --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --external:node-llama-cpp --external:esbuild --outdir="$DEST/js" --out-extension:.js=.mjs \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url); process.argv[1] += '#bundle';"

if [ ! -s "$DEST/node_modules.tar.xz" ]; then
  echo "packing node-llama-cpp and its run-time dependencies"
  npx tsx bench/gpu/module-closure.ts >"$DEST/modules.txt"
  tar --exclude=node_modules/node-llama-cpp/llama/gitRelease.bundle \
    --exclude='node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda/libggml-cuda.so' \
    -cf - -T "$DEST/modules.txt" | xz -T0 -6 >"$DEST/node_modules.tar.xz"
fi

echo "packing redis-server"
cp -L "$(command -v redis-server)" "$DEST/redis/redis-server"
# Its libraries that a CUDA image may lack; glibc itself is the machine's own.
for lib in $(ldd "$(command -v redis-server)" | awk '/=> \// {print $3}'); do
  case "$(basename "$lib")" in libc.so* | libm.so* | ld-linux*) ;; *) cp -L "$lib" "$DEST/redis/" ;; esac
done

# Compressed, so that the whole payload stays far under the carry limit; run.sh unpacks them.
tar -C "$DEST" -cf - js redis | xz -T0 -6 >"$DEST/scripts.tar.xz"
rm -rf "$DEST/js" "$DEST/redis" "$DEST/modules.txt"
du -ch "$DEST"/*.xz | tail -1

#!/usr/bin/env bash
# Builds batch-engine (src/inference/native/batch-engine.cpp) against the llama.cpp source that
# node-llama-cpp ships (node_modules/node-llama-cpp/llama/gitRelease.bundle), for the CPU or CUDA.
#
#   bash src/inference/native/build.sh            # CPU: .cache/native/batch-engine
#   bash src/inference/native/build.sh cuda       # CUDA (nvcc, cmake): .cache/native-cuda/batch-engine
#
# Environment: LLAMA_SRC (source folder; cloned from the bundle when missing), LLAMA_BUILD (cmake build
# folder; an existing one is reused, e.g. bench/gpu/run.sh's), NATIVE_OUT (the executable's path),
# CUDA_ARCH (90), JOBS (nproc), NATIVE_MARCH (native: the engine's own sampling loops use the vector
# instructions of the machine that builds it, which is the one that runs it; set x86-64-v2 or similar for
# a binary that moves). The executable finds llama.cpp's shared libraries through its rpath, and
# loadable backends (GGML_BACKEND_DL builds) next to itself, so a CUDA build writes it into LLAMA_BUILD/bin.
# Set NATIVE_ENGINE_BIN to the printed path (with ENGINE=native) to use it.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
MODE=${1:-cpu}
SRC=${LLAMA_SRC:-$ROOT/.cache/llama.cpp}
JOBS=${JOBS:-$(nproc)}
if [ ! -d "$SRC" ]; then git clone -q "$ROOT/node_modules/node-llama-cpp/llama/gitRelease.bundle" "$SRC"; fi
case "$MODE" in
  cpu)
    BUILD=${LLAMA_BUILD:-$ROOT/.cache/llama-build-cpu}
    OUTBIN=${NATIVE_OUT:-$ROOT/.cache/native/batch-engine}
    FLAGS=(-DGGML_CUDA=OFF)
    TARGETS=(llama ggml-cpu)
    # Linked directly (not only through libggml), so that the executable's own rpath finds it even when
    # LLAMA_BUILD was moved or copied since it was built (libggml's runpath names the original folder).
    EXTRA_LIBS=(-Wl,--no-as-needed -lggml-cpu -Wl,--as-needed)
    ;;
  cuda)
    BUILD=${LLAMA_BUILD:-$ROOT/.cache/llama-build-cuda}
    OUTBIN=${NATIVE_OUT:-$BUILD/bin/batch-engine}
    FLAGS=(-DGGML_CUDA=ON -DGGML_BACKEND_DL=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}")
    TARGETS=(llama ggml-cpu ggml-cuda)
    EXTRA_LIBS=()  # the backends are modules loaded at run time (GGML_BACKEND_DL)
    ;;
  *) echo "usage: build.sh [cpu|cuda]" >&2; exit 2 ;;
esac
# LLAMA_PREBUILT=1: LLAMA_BUILD/bin already holds the libraries (an existing llama.cpp build of the same
# source); only link against them.
if [ -n "${LLAMA_PREBUILT:-}" ]; then :
elif [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=OFF \
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF "${FLAGS[@]}" >/dev/null
fi
[ -n "${LLAMA_PREBUILT:-}" ] || cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}" >/dev/null
mkdir -p "$(dirname "$OUTBIN")"
LIBDIR=$BUILD/bin
INCLUDES=(-I "$SRC/include" -I "$SRC/ggml/include" -I "$SRC/common" -isystem "$SRC/vendor")
# llama.cpp's JSON-Schema-to-GBNF converter (common/json-schema-to-grammar.cpp, nlohmann/json behind
# common_json) and the few common/ files it calls, compiled into batch-engine rather than building all of
# llama-common (argument parsing, downloads, chat parsers: minutes more on 2 cores). --gc-sections then
# drops the parts of common.cpp that would need the rest of llama-common. Objects are kept next to the
# llama.cpp build and recompiled only when their source changes.
OBJDIR=$BUILD/batch-engine-common
mkdir -p "$OBJDIR"
OBJS=()
PIDS=()
for name in json-schema-to-grammar json-schema json trie unicode common log; do
  obj=$OBJDIR/$name.o
  OBJS+=("$obj")
  if [ ! -f "$obj" ] || [ "$SRC/common/$name.cpp" -nt "$obj" ]; then
    g++ -std=c++17 -O2 -ffunction-sections -fdata-sections "${INCLUDES[@]}" -c "$SRC/common/$name.cpp" -o "$obj" &
    PIDS+=($!)
    if [ "${#PIDS[@]}" -ge "$JOBS" ]; then wait "${PIDS[0]}"; PIDS=("${PIDS[@]:1}"); fi
  fi
done
for pid in "${PIDS[@]}"; do wait "$pid"; done
g++ -std=c++17 -O3 -march="${NATIVE_MARCH:-native}" -Wall -Wextra "${INCLUDES[@]}" \
  "$ROOT/src/inference/native/batch-engine.cpp" "${OBJS[@]}" -o "$OUTBIN" \
  -fopenmp -L "$LIBDIR" -lllama -lggml -lggml-base "${EXTRA_LIBS[@]}" -pthread -Wl,--gc-sections -Wl,-rpath,"$LIBDIR"
echo "$OUTBIN"

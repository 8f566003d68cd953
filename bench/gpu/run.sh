#!/usr/bin/env bash
# npm run bench:gpu — on a machine with an NVIDIA GPU, nvcc and cmake (see docs/PERFORMANCE.md).
#
# 1. builds ggml-cuda, llama-batched-bench and batch-engine (src/inference/native, ENGINE=native) from the
#    llama.cpp source that node-llama-cpp ships, and puts that libggml-cuda.so in place of
#    node-llama-cpp's prebuilt one (built with a CUDA newer than some drivers accept);
# 2. writes the random-weight Llama-3.2-1B-shaped model (Q8_0, 1.17 GB) with the project's generator;
# 3. runs llama-batched-bench (the anchor), the real job path (BullMQ job in, Redis reply stream out)
#    with ENGINE=native in several configurations and with the default engine, optionally sustained
#    arrivals, and the node-llama-cpp engine directly in its batching variants, all on that model;
# 4. prints one table: aggregate tokens/s, time to first token, fractions of llama-batched-bench.
#
# Without Node.js on the machine it uses what bench/gpu/prepare.sh packed into .device/gpu/.
# Settings (environment): GPU_BENCH_BATCHES (1,8,16,32,64), GPU_BENCH_TOKENS (128), GPU_BENCH_PROMPT
# (64, prompt tokens per sequence for the anchor), GPU_BENCH_VARIANTS (scheduler:order:gatherMs:uvThreads:
# temperature ...; set but empty: none), GPU_BENCH_JOB (1: run the job path with the default engine),
# GPU_BENCH_JOB_QUESTIONS (same: job-bench's --questions for the default engine), GPU_BENCH_NATIVE (1: build
# batch-engine and run the job path with ENGINE=native), GPU_BENCH_NATIVE_RUNS (kvUnified:prefixCache:
# questions[:tokensPerStep[:VAR=value,...]] for each ENGINE=native run, the last field environment for
# that run; default "0:1:same 0:0:same 0:1:varied"), GPU_BENCH_SUSTAIN (questions:rates:seconds:sequences,
# e.g. "varied:20,40,60:20:64": sustained arrivals through the job path with ENGINE=native; empty: none),
# GPU_BENCH_WORK (/tmp/gpu-bench), CUDA_ARCH (90).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PAYLOAD=$ROOT/.device/gpu
WORK=${GPU_BENCH_WORK:-/tmp/gpu-bench}
RESULTS=$WORK/results
BATCHES=${GPU_BENCH_BATCHES:-1,8,16,32,64}
TOKENS=${GPU_BENCH_TOKENS:-128}
PROMPT=${GPU_BENCH_PROMPT:-64}
VARIANTS=${GPU_BENCH_VARIANTS-session:arrival:0:4:0.2 lockstep:sequence:0:16:0.2}
THREADS=${GPU_BENCH_THREADS:-8}
MAXB=$(echo "$BATCHES" | tr ',' '\n' | sort -n | tail -1)
mkdir -p "$WORK/bin" "$RESULTS"
# One table per run: results of an earlier run on the same machine would mix into it.
rm -f "$RESULTS"/*.jsonl "$RESULTS"/native-steps-*.txt
log() { echo "[$(date -u +%T)] $*"; }
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
# NVLink multicast stays off (shared hosts).
export NCCL_NVLS_ENABLE=0

# --- Node and the scripts -------------------------------------------------------------------------
if ! command -v node >/dev/null && [ -s "$PAYLOAD/node.xz" ]; then
  xz -dc "$PAYLOAD/node.xz" >"$WORK/bin/node" && chmod +x "$WORK/bin/node"
  export PATH=$WORK/bin:$PATH
fi
command -v node >/dev/null || { echo "no node: run bench/gpu/prepare.sh where npm works and carry .device"; exit 1; }
if [ -s "$PAYLOAD/node_modules.tar.xz" ] && [ ! -d "$PAYLOAD/node_modules/node-llama-cpp" ]; then
  tar -xJf "$PAYLOAD/node_modules.tar.xz" -C "$PAYLOAD"
fi
if [ -s "$PAYLOAD/scripts.tar.xz" ] && [ ! -d "$PAYLOAD/js" ]; then tar -xJf "$PAYLOAD/scripts.tar.xz" -C "$PAYLOAD"; fi
js() { # name: the command that runs a benchmark script, bundled if packed, else TypeScript through tsx
  if [ -s "$PAYLOAD/js/$1.mjs" ]; then echo "node ${NODE_FLAGS:-} $PAYLOAD/js/$1.mjs"
  else echo "node ${NODE_FLAGS:-} --import tsx bench/gpu/$1.ts"; fi
}
CUDA_BINS=""
for d in "$PAYLOAD/node_modules" "$ROOT/node_modules"; do
  [ -d "$d/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda" ] && { CUDA_BINS="$d/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda"; break; }
done
log "node $(node --version); nvidia: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null)"

# --- the model, written while llama.cpp builds --------------------------------------------------------
MODEL=$WORK/llama-1b-shape-q8_0.gguf
if [ ! -s "$MODEL" ]; then
  ($(js make-model) "$MODEL" 1b >"$RESULTS/make-model.log" 2>&1) &
  MODEL_PID=$!
fi

# --- build ggml-cuda and llama-batched-bench -------------------------------------------------------
SRC=$WORK/llama.cpp
BUILD=$WORK/build
if [ ! -x "$BUILD/bin/llama-batched-bench" ]; then
  if [ ! -d "$SRC" ]; then
    if [ -s "$PAYLOAD/llama-src.tar.xz" ]; then tar -xJf "$PAYLOAD/llama-src.tar.xz" -C "$WORK"
    else git clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle "$SRC"; fi
  fi
  log "building ggml-cuda + llama-batched-bench (sm_${CUDA_ARCH:-90})"
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGGML_BACKEND_DL=ON -DGGML_CUDA=ON \
    -DBUILD_SHARED_LIBS=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
    >"$RESULTS/cmake.log" 2>&1 || { tail -30 "$RESULTS/cmake.log"; exit 1; }
  cmake --build "$BUILD" -j "$(nproc)" --target ggml-cuda ggml-cpu llama-batched-bench \
    >"$RESULTS/build.log" 2>&1 || { tail -40 "$RESULTS/build.log"; exit 1; }
  log "built"
fi
NATIVE_BIN=$BUILD/bin/batch-engine
if [ "${GPU_BENCH_NATIVE:-1}" = "1" ] && [ ! -x "$NATIVE_BIN" ]; then
  # In the same build tree: it links the same libllama and loads the same libggml-cuda.so.
  log "building batch-engine"
  if [ ! -d "$SRC" ]; then tar -xJf "$PAYLOAD/llama-src.tar.xz" -C "$WORK"; fi
  LLAMA_SRC=$SRC LLAMA_BUILD=$BUILD NATIVE_OUT=$NATIVE_BIN bash src/inference/native/build.sh cuda \
    >"$RESULTS/native-build.log" 2>&1 || tail -30 "$RESULTS/native-build.log"
fi
if [ -n "$CUDA_BINS" ]; then cp "$BUILD/bin/libggml-cuda.so" "$CUDA_BINS/libggml-cuda.so"; fi
[ -n "${MODEL_PID:-}" ] && { wait "$MODEL_PID"; cat "$RESULTS/make-model.log"; }

# --- anchor: llama-batched-bench from the same source ------------------------------------------------
log "llama-batched-bench"
"$BUILD/bin/llama-batched-bench" -m "$MODEL" -c $((MAXB * (PROMPT + TOKENS) + 256)) -b 2048 -ub 512 \
  -npp "$PROMPT" -ntg "$TOKENS" -npl "$BATCHES" -ngl 99 -t "$THREADS" --output-format jsonl \
  >"$RESULTS/anchor.jsonl" 2>"$RESULTS/anchor.log" || tail -20 "$RESULTS/anchor.log"
grep '^{' "$RESULTS/anchor.jsonl" | head -20
# The job path's prompts (system rules, sources, question) are ~580 tokens with this model's synthetic
# vocabulary, against the anchor's 64: the same anchor at that prompt length, for reference only (a .txt,
# so the report's table keeps the standard anchor).
"$BUILD/bin/llama-batched-bench" -m "$MODEL" -c $((32 * (${GPU_BENCH_JOB_PROMPT:-576} + TOKENS) + 256)) -b 2048 -ub 512 \
  -npp "${GPU_BENCH_JOB_PROMPT:-576}" -ntg "$TOKENS" -npl 32 -ngl 99 -t "$THREADS" --output-format jsonl \
  >"$RESULTS/anchor-job-prompt.txt" 2>/dev/null && grep '^{' "$RESULTS/anchor-job-prompt.txt"

ensure_redis() {
  if ! (echo PING | timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379; cat >&3; head -c 7 <&3' 2>/dev/null | grep -q PONG); then
    if command -v redis-server >/dev/null; then redis-server --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
    elif [ -x "$PAYLOAD/redis/redis-server" ]; then
      LD_LIBRARY_PATH=$PAYLOAD/redis "$PAYLOAD/redis/redis-server" --port 6379 --save '' --appendonly no --daemonize yes >/dev/null
    fi
    sleep 0.5
  fi
}

# --- the real job path with ENGINE=native (batch-engine) --------------------------------------------
if [ "${GPU_BENCH_NATIVE:-1}" = "1" ] && [ -x "$NATIVE_BIN" ]; then
  ensure_redis
  for run in ${GPU_BENCH_NATIVE_RUNS:-0:1:same 0:0:same 0:1:varied}; do
    IFS=: read -r kvu cache questions step vars <<<"$run"
    name=$kvu-$cache-$questions${step:+-$step}${vars:+-$(echo "$vars" | tr -c 'A-Za-z0-9\n' '_')}
    log "job path, ENGINE=native, NATIVE_KV_UNIFIED=$kvu NATIVE_PREFIX_CACHE=$cache, questions $questions"
    env ${vars//,/ } BATCH_ENGINE_STATS=$RESULTS/native-steps-$name.txt UV_THREADPOOL_SIZE=16 timeout 200 $(js job-bench) --model "$MODEL" --batches "$BATCHES" \
      --tokens "$TOKENS" --gpu cuda --threads "$THREADS" --context 2048 --engine native --engine-bin "$NATIVE_BIN" \
      --prefix-cache "$cache" --questions "$questions" $([ "$kvu" = 1 ] && echo --kv-unified) ${step:+--batch-size $step} ${vars:+--label "$vars"} \
      >"$RESULTS/job-native-$name.jsonl" 2>"$RESULTS/job-native-$name.log"
    cat "$RESULTS/job-native-$name.jsonl"; tail -5 "$RESULTS/job-native-$name.log"
    # batch-engine's own timings per batch size (warm-up first): steps, tokens, prompt tokens (cached),
    # ms in llama_decode / waiting for the GPU / sampling / whole steps
    cat "$RESULTS/native-steps-$name.txt" 2>/dev/null
  done
fi

# --- sustained arrivals through the job path (ENGINE=native) --------------------------------------------
if [ -n "${GPU_BENCH_SUSTAIN:-}" ] && [ -x "$NATIVE_BIN" ]; then
  ensure_redis
  for spec in $GPU_BENCH_SUSTAIN; do
    IFS=: read -r questions rates seconds seqs <<<"$spec"
    log "sustained arrivals, ENGINE=native, questions $questions, rates $rates/s, ${seconds}s each, $seqs sequences"
    UV_THREADPOOL_SIZE=16 timeout 300 $(js job-bench) --model "$MODEL" --batches "" --rates "$rates" --seconds "$seconds" \
      --sequences "$seqs" --tokens "$TOKENS" --gpu cuda --threads "$THREADS" --context 2048 --engine native \
      --engine-bin "$NATIVE_BIN" --questions "$questions" >"$RESULTS/sustain-$questions.jsonl" 2>"$RESULTS/sustain-$questions.log"
    cat "$RESULTS/sustain-$questions.jsonl"; tail -5 "$RESULTS/sustain-$questions.log"
  done
fi

# --- the engine directly, in each batching variant ---------------------------------------------------
for variant in $VARIANTS; do
  IFS=: read -r scheduler order gather uv temp <<<"$variant"
  log "engine: scheduler=$scheduler order=$order gather=${gather}ms UV_THREADPOOL_SIZE=$uv temperature=$temp"
  UV_THREADPOOL_SIZE=$uv timeout 240 \
    $(NODE_FLAGS="--cpu-prof --cpu-prof-dir=$WORK/prof-$scheduler-$order-$gather-$uv-$temp" js engine-bench) --model "$MODEL" --batches "$BATCHES" --tokens "$TOKENS" --gpu cuda \
    --threads "$THREADS" --context $((PROMPT + TOKENS + 256)) --order "$order" --gather "$gather" --scheduler "$scheduler" --temperature "${temp:-0.2}" \
    --label "engine-uv$uv-t$temp" >"$RESULTS/engine-$scheduler-$order-$gather-$uv-$temp.jsonl" 2>"$RESULTS/engine-$scheduler-$order-$gather-$uv-$temp.log"
  cat "$RESULTS/engine-$scheduler-$order-$gather-$uv-$temp.jsonl"; tail -3 "$RESULTS/engine-$scheduler-$order-$gather-$uv-$temp.log"
  prof=$(ls "$WORK/prof-$scheduler-$order-$gather-$uv-$temp"/*.cpuprofile 2>/dev/null | head -1)
  [ -n "$prof" ] && $(js profile-summary) "$prof" >"$RESULTS/profile-$scheduler-$order-$gather-$uv-$temp.txt" 2>&1
done

# --- the real job path ----------------------------------------------------------------------------------
if [ "${GPU_BENCH_JOB:-1}" = "1" ]; then
  ensure_redis
  log "job path"
  UV_THREADPOOL_SIZE=16 timeout "${GPU_BENCH_JOB_TIMEOUT:-300}" $(js job-bench) --model "$MODEL" --batches "$BATCHES" \
    --tokens "$TOKENS" --gpu cuda --threads "$THREADS" --context 2048 --questions "${GPU_BENCH_JOB_QUESTIONS:-same}" \
    >"$RESULTS/job.jsonl" 2>"$RESULTS/job.log"
  cat "$RESULTS/job.jsonl"; tail -5 "$RESULTS/job.log"
fi

for f in "$RESULTS"/profile-*.txt; do [ -s "$f" ] && { echo "== $f"; head -25 "$f"; }; done
echo
$(js report) "$RESULTS" | tee "$RESULTS/table.txt"
# The device tool brings back at most 8 files from $OUT: one archive of every log and result.
if [ -n "${OUT:-}" ]; then
  tar -czf "$OUT/results.tgz" -C "$WORK" results && cp "$RESULTS/table.txt" "$OUT/"
fi

# syntax=docker/dockerfile:1
# The support gateway's images, from one file:
#   docker build .                        -> `runtime`: the gateway and the CPU worker (default target)
#   docker build --target worker-cuda .   -> a GPU worker: ENGINE=native, the batch engine built for CUDA
# Node 22 LTS (Node 20 reached end of life in April 2026; package.json's engines still lets developers
# run 20). Both images carry the compiled CLI (dist/), production dependencies only, and one llama.cpp
# build of node-llama-cpp (scripts/prune-platforms.mjs).
ARG NODE_IMAGE=node:22-bookworm-slim
ARG CUDA_IMAGE_VERSION=12.8.1
ARG CUDA_IMAGE_OS=ubuntu24.04

# Every dependency exactly as locked (`npm ci` never rewrites package-lock.json), without install scripts,
# as scripts/ensure-deps.mjs installs (node-llama-cpp's would try to build llama.cpp when it sees a GPU
# toolchain; nothing needs one).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# Compile once here (no TypeScript compiling at start), then keep what production runs.
FROM deps AS build
# node-llama-cpp builds to keep: linux-x64 (CPU) by default; on arm64 hosts, linux-arm64.
ARG LLAMA_BINARIES=linux-x64
COPY . .
RUN node scripts/build.mjs --force \
 && node --import tsx adapters/webchat/widget/build.ts \
 && npm prune --omit=dev --no-audit --no-fund \
 && node scripts/prune-platforms.mjs ${LLAMA_BINARIES} \
 && mkdir -p .cache

# The native batch engine for CUDA, built from the llama.cpp source node-llama-cpp ships
# (src/inference/native/build.sh cuda): a CUDA devel image has nvcc; the runtime image below does not.
FROM nvidia/cuda:${CUDA_IMAGE_VERSION}-devel-${CUDA_IMAGE_OS} AS engine-cuda
# 90: H100/H200. Several, e.g. "80;86;89;90", for A100, A10/3090, L4/4090 and H100 in one image.
ARG CUDA_ARCH=90
# The engine's own sampling loops are compiled for this CPU level, not for the machine that builds it.
ARG NATIVE_MARCH=x86-64-v3
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules/node-llama-cpp/llama/gitRelease.bundle /tmp/llama.bundle
COPY src/inference/native src/inference/native
RUN git clone -q /tmp/llama.bundle /opt/llama.cpp \
 && LLAMA_SRC=/opt/llama.cpp LLAMA_BUILD=/opt/llama-cuda CUDA_ARCH="${CUDA_ARCH}" NATIVE_MARCH="${NATIVE_MARCH}" \
    bash src/inference/native/build.sh cuda \
 && rm -rf /opt/llama.cpp /tmp/llama.bundle

FROM nvidia/cuda:${CUDA_IMAGE_VERSION}-runtime-${CUDA_IMAGE_OS} AS worker-cuda
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
# batch-engine finds llama.cpp's libraries through its rpath: they stay where they were built.
COPY --from=engine-cuda /opt/llama-cuda/bin /opt/llama-cuda/bin
WORKDIR /app
COPY --from=build /app /app
COPY --from=build --chown=1000:1000 /app/.cache /app/.cache
ENV NODE_ENV=production ENGINE=native LLM_GPU=cuda \
    NATIVE_ENGINE_BIN=/opt/llama-cuda/bin/batch-engine WORKER_HEALTH_PORT=8081
# uid 1000 (Ubuntu's own unprivileged user), as `node` in the runtime image: one securityContext fits both.
USER 1000:1000
EXPOSE 8081
CMD ["node", "--enable-source-maps", "dist/cli.js", "start", "worker"]

# Last, so that a plain `docker build .` gives it.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
COPY --from=build --chown=1000:1000 /app/.cache /app/.cache
USER 1000:1000
EXPOSE 3000
CMD ["node", "--enable-source-maps", "dist/cli.js", "start"]

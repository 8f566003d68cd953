import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseEngine, type EngineProbes, resolveNativeBin } from "../../../src/inference/engine-choice.ts";

const CUDA_BIN = ".cache/llama-build-cuda/bin/batch-engine";
const CPU_BIN = ".cache/native/batch-engine";

/** A machine described by the files it has and its CUDA device. */
function machine(files: string[], device?: string): EngineProbes & { probed: string[] } {
  const probed: string[] = [];
  const has = async (path: string) => {
    probed.push(path);
    return files.includes(path);
  };
  return { probed, executable: has, exists: has, cudaDevice: async () => device };
}

const gpuHost = () => machine([CUDA_BIN, ".cache/llama-build-cuda/bin/libggml-cuda.so"], "/dev/nvidia0");

describe("ENGINE=auto", () => {
  it("chooses the native engine with a CUDA device and a CUDA build of batch-engine", async () => {
    const choice = await chooseEngine({ gpu: "auto", nativeBin: CUDA_BIN }, gpuHost());
    assert.equal(choice.engine, "native");
    assert.match(choice.reason, /CUDA device \/dev\/nvidia0 and a CUDA build of batch-engine/);
  });

  it("chooses node-llama-cpp without a CUDA device, and says so", async () => {
    const probes = machine([CUDA_BIN, ".cache/llama-build-cuda/bin/libggml-cuda.so"]);
    const choice = await chooseEngine({ gpu: "auto", nativeBin: CUDA_BIN }, probes);
    assert.deepEqual(choice, { engine: "llama", reason: "no CUDA device (no /dev/nvidia0, no nvidia-smi)" });
  });

  it("chooses node-llama-cpp when the binary is missing, naming the path and how to build it", async () => {
    const choice = await chooseEngine({ gpu: "cuda", nativeBin: "/opt/none" }, machine([], "GPU 0: H200"));
    assert.equal(choice.engine, "llama");
    assert.match(choice.reason, /no batch-engine at \/opt\/none .*build\.sh cuda/);
  });

  it("chooses node-llama-cpp when the binary is a CPU build (no CUDA backend beside it)", async () => {
    const choice = await chooseEngine(
      { gpu: "auto", nativeBin: CPU_BIN },
      machine([CPU_BIN], "/dev/nvidia0"),
    );
    assert.equal(choice.engine, "llama");
    assert.match(choice.reason, /is a CPU build/);
  });

  it("follows LLM_GPU: false, vulkan or metal keep node-llama-cpp without probing the device", async () => {
    for (const gpu of [false, "vulkan", "metal"] as const) {
      const probes = gpuHost();
      const choice = await chooseEngine({ gpu, nativeBin: CUDA_BIN }, probes);
      assert.equal(choice.engine, "llama", String(gpu));
      assert.deepEqual(probes.probed, []);
    }
  });

  it("takes NATIVE_ENGINE_BIN when set, else the CUDA build's path when it exists, else the CPU build's", async () => {
    assert.equal(await resolveNativeBin("/opt/be", gpuHost()), "/opt/be");
    assert.equal(await resolveNativeBin(undefined, gpuHost()), CUDA_BIN);
    assert.equal(await resolveNativeBin(undefined, machine([CPU_BIN])), CPU_BIN);
    assert.equal(await resolveNativeBin(undefined, machine([])), CPU_BIN);
  });
});

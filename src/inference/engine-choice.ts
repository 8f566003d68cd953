import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { dirname, join } from "node:path";

/**
 * ENGINE=auto: the native batch engine where it pays (a CUDA device and a CUDA build of batch-engine:
 * on a GPU it decodes ~2x node-llama-cpp's tokens/s, docs/PERFORMANCE.md), node-llama-cpp everywhere else
 * (CPU, Metal, Vulkan, no binary). Every check is cheap (a file test, at most one `nvidia-smi -L`), so it
 * runs at each worker start.
 */

export type ChosenEngine = "llama" | "native";

export interface EngineChoice {
  engine: ChosenEngine;
  /** Why, for the worker's log. */
  reason: string;
}

/** What the choice looks at; tests inject their own. */
export interface EngineProbes {
  /** Whether an executable file is at the path. */
  executable(path: string): Promise<boolean>;
  /** Whether a file is at the path. */
  exists(path: string): Promise<boolean>;
  /** A usable CUDA device's description, or undefined when there is none. */
  cudaDevice(): Promise<string | undefined>;
}

export interface EngineChoiceSettings {
  /** LLM_GPU. */
  gpu: "auto" | "cuda" | "vulkan" | "metal" | false;
  /** The batch-engine executable (NATIVE_ENGINE_BIN or its default). */
  nativeBin: string;
}

/** Where build.sh writes batch-engine: the CUDA build, then the CPU build. */
export const NATIVE_BIN_DEFAULTS = [
  ".cache/llama-build-cuda/bin/batch-engine",
  ".cache/native/batch-engine",
] as const;

/** NATIVE_ENGINE_BIN when set, else the first default that exists (the CPU build's path when none does). */
export async function resolveNativeBin(
  configured: string | undefined,
  probes: EngineProbes = systemProbes,
): Promise<string> {
  if (configured) return configured;
  for (const path of NATIVE_BIN_DEFAULTS) if (await probes.executable(path)) return path;
  return NATIVE_BIN_DEFAULTS[1];
}

/** Picks the engine for ENGINE=auto. */
export async function chooseEngine(
  { gpu, nativeBin }: EngineChoiceSettings,
  probes: EngineProbes = systemProbes,
): Promise<EngineChoice> {
  const llama = (reason: string): EngineChoice => ({ engine: "llama", reason });
  if (gpu === false) return llama("LLM_GPU=false: CPU only");
  if (gpu !== "auto" && gpu !== "cuda")
    return llama(`LLM_GPU=${gpu}: the native engine is built for CUDA only`);
  const device = await probes.cudaDevice();
  if (!device) return llama("no CUDA device (no /dev/nvidia0, no nvidia-smi)");
  if (!(await probes.executable(nativeBin))) {
    return llama(
      `CUDA device ${device}, but no batch-engine at ${nativeBin} (build it with \`bash src/inference/native/build.sh cuda\`)`,
    );
  }
  // A CUDA build keeps the executable next to llama.cpp's CUDA backend module (build.sh cuda); the CPU
  // build's would run every layer on the CPU.
  const cudaModule = join(dirname(nativeBin), "libggml-cuda.so");
  if (!(await probes.exists(cudaModule))) {
    return llama(`CUDA device ${device}, but ${nativeBin} is a CPU build (no ${cudaModule} beside it)`);
  }
  return {
    engine: "native",
    reason: `CUDA device ${device} and a CUDA build of batch-engine at ${nativeBin}`,
  };
}

const fileOk = (path: string, mode: number) =>
  access(path, mode).then(
    () => true,
    () => false,
  );

/** The machine's own answers. */
export const systemProbes: EngineProbes = {
  executable: (path) => fileOk(path, constants.X_OK),
  exists: (path) => fileOk(path, constants.F_OK),
  async cudaDevice() {
    if (await fileOk("/dev/nvidia0", constants.F_OK)) return "/dev/nvidia0";
    // Without the device node (some container runtimes), ask the driver; absent or failing means none.
    return new Promise((resolve) =>
      execFile("nvidia-smi", ["-L"], { timeout: 5000 }, (error, stdout) => {
        const first = stdout.split("\n")[0]?.trim();
        resolve(!error && first?.startsWith("GPU") ? first : undefined);
      }),
    );
  },
};

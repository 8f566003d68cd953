import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { LlamaEngine } from "../../../src/inference/llama-engine.ts";
import { NativeBatchEngine } from "../../../src/inference/native-batch-engine.ts";
import { createLogger } from "../../../src/logger.ts";
import { ensureTinyModel } from "../../../src/tiny-model/tiny-model.ts";
import { engineContract } from "../../contract/engine-contract.ts";

// The Engine contract against the two real engines, with the tiny random model.
const logger = createLogger({ level: "silent" });
const binary = process.env.NATIVE_ENGINE_BIN ?? resolve(".cache/native/batch-engine");

engineContract("node-llama-cpp", async ({ capacity, contextSize }) =>
  LlamaEngine.load(
    {
      modelPath: await ensureTinyModel(),
      gpu: false,
      threads: 1,
      contextSize,
      sequences: capacity,
      ignoreEos: true,
    },
    logger,
  ),
);

engineContract(
  "native",
  async ({ capacity, contextSize }) =>
    NativeBatchEngine.load(
      {
        binPath: binary,
        modelPath: await ensureTinyModel(),
        gpu: false,
        threads: 1,
        contextSize,
        sequences: capacity,
        ignoreEos: true,
      },
      logger,
    ),
  {
    // CI builds the binary (.ci/run); only a checkout that never ran build.sh lacks it.
    skip: existsSync(binary)
      ? false
      : `no batch-engine at ${binary}: build it with \`bash src/inference/native/build.sh\` (or set NATIVE_ENGINE_BIN)`,
  },
);

import { startWorkerRuntime } from "../../../src/app/worker-runtime.ts";
import type { Config } from "../../../src/config.ts";
import type { GenerateRequest } from "../../../src/inference/engine.ts";
import type { Logger } from "../../../src/logger.ts";

export interface RecordingWorker {
  /** Every request the engine received, in order: what the model was actually shown. */
  requests: GenerateRequest[];
  close(): Promise<void>;
}

/**
 * The real worker runtime and the real llama engine (tiny model), with the engine's requests
 * recorded, so a test can see which earlier turns a prompt carried.
 */
export async function startRecordingWorker(config: Config, logger: Logger): Promise<RecordingWorker> {
  if (!config.llm.modelPath) throw new Error("MODEL_PATH is needed");
  const requests: GenerateRequest[] = [];
  const runtime = await startWorkerRuntime(config, logger, {
    wrapEngine: (engine) => ({
      description: engine.description,
      capacity: engine.capacity,
      generate: (request, options) => {
        requests.push(request);
        return engine.generate(request, options);
      },
      countTokens: (request) => engine.countTokens(request),
      close: () => engine.close(),
    }),
  });
  if (runtime.status.state !== "ready") throw new Error(`worker not ready: ${runtime.status.error ?? ""}`);
  return { requests, close: () => runtime.close() };
}

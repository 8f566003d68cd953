import { startWorkerRuntime } from "../../../src/app/worker-runtime.ts";
import type { Config } from "../../../src/config.ts";
import type { ChatTurnsRequest } from "../../../src/inference/engine.ts";
import type { Logger } from "../../../src/logger.ts";

export interface RecordingWorker {
  /** Every chat-turn request (all the answering path sends) the engine received, in order: what the model was shown. */
  requests: ChatTurnsRequest[];
  close(): Promise<void>;
}

/**
 * The real worker runtime and the real llama engine (tiny model), with the engine's requests
 * recorded, so a test can see which earlier turns a prompt carried.
 */
export async function startRecordingWorker(config: Config, logger: Logger): Promise<RecordingWorker> {
  if (!config.llm.modelPath) throw new Error("MODEL_PATH is needed");
  const requests: ChatTurnsRequest[] = [];
  const runtime = await startWorkerRuntime(config, logger, {
    wrapEngine: (engine) => ({
      description: engine.description,
      capacity: engine.capacity,
      generate: (request, options) => {
        if ("prompt" in request) requests.push(request);
        return engine.generate(request, options);
      },
      countTokens: (request) => engine.countTokens(request),
      close: () => engine.close(),
    }),
  });
  if (runtime.status.state !== "ready") throw new Error(`worker not ready: ${runtime.status.error ?? ""}`);
  return { requests, close: () => runtime.close() };
}

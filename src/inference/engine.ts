/** One earlier exchange, as the model sees it. */
export interface ChatTurn {
  user: string;
  assistant: string;
}

export interface GenerateRequest {
  /** The rules and the numbered sources. */
  system: string;
  /** Earlier turns of the conversation, oldest first. */
  history: ChatTurn[];
  /** The user's new message. */
  prompt: string;
  maxTokens: number;
  temperature: number;
  /** Same seed, same output: a retried job regenerates the same text. */
  seed?: number;
}

export type StopReason = "eos" | "max_tokens" | "aborted" | "error";

export interface GenerateResult {
  text: string;
  stopReason: StopReason;
  /** Tokens generated. */
  tokens: number;
  /** Prompt tokens, and how many of them came from cached KV cells without decoding (engines that know). */
  promptTokens?: number;
  cachedPromptTokens?: number;
}

/** How a request's prompt tokenizes, without generating anything. */
export interface PromptTokenCount {
  /** Prompt tokens as the engine would decode them (template, contents and BOS). */
  tokens: number;
  /**
   * Of which control tokens (BOS, the chat template's turn markers). Only the template adds them: text in a
   * message or a source never becomes one, so this count does not depend on what users type.
   */
  controlTokens: number;
}

export interface GenerateOptions {
  signal: AbortSignal;
  /** Receives each piece of text as soon as it is decoded. */
  onText: (chunk: string) => void;
}

/**
 * A text generator that runs several requests at once (one per sequence), so that their decoding is
 * batched. The worker's BullMQ concurrency equals `capacity`.
 */
export interface Engine {
  /** Said in logs and /readyz, e.g. "llama: model.gguf, 4 sequences, cpu". */
  readonly description: string;
  /** How many generations may run at once. */
  readonly capacity: number;
  generate(request: GenerateRequest, options: GenerateOptions): Promise<GenerateResult>;
  /** Renders and tokenizes the request's prompt as `generate` would, without generating. */
  countTokens(request: GenerateRequest): Promise<PromptTokenCount>;
  close(): Promise<void>;
}

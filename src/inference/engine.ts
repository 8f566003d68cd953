/** One earlier exchange, as the model sees it. */
export interface ChatTurn {
  user: string;
  assistant: string;
}

export type ChatRole = "system" | "user" | "assistant";

/** One message of a conversation as OpenAI-style clients send it (roles in any order). */
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/**
 * A JSON Schema (an object schema, a string schema, ...). Engines turn it into a grammar, so that the output
 * always parses and fits it: node-llama-cpp's converter (plus `pattern`, llama-grammar.ts) and llama.cpp's
 * (native). A schema the converter refuses is `bad_request`; each converter ignores keywords it does not
 * know, so callers keep to the common subset (type, properties, required, enum, const, items, pattern,
 * minLength/maxLength).
 */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** What every request may say about sampling and the answer's form. */
export interface GenerationSettings {
  maxTokens: number;
  temperature: number;
  /** Same seed, same output: a retried job regenerates the same text. */
  seed?: number;
  /**
   * Nucleus sampling: draw only from the most likely tokens whose probabilities add up to topP (0-1].
   * @defaultValue the engine's (node-llama-cpp: 0.95 after top-k 40; native: 1, the whole vocabulary)
   */
  topP?: number;
  /** The answer ends before the first of these strings (which is not part of it); stopReason "stop". */
  stop?: string[];
  /** The answer is generated under a grammar built from this schema: it always parses and fits it. */
  jsonSchema?: JsonSchema;
}

/** The support answer's shape: rules and sources, earlier turns, the new message. */
export interface ChatTurnsRequest extends GenerationSettings {
  /** The rules and the numbered sources. */
  system: string;
  /** Earlier turns of the conversation, oldest first. */
  history: ChatTurn[];
  /** The user's new message. */
  prompt: string;
}

/** An explicit message list, rendered with the model's chat template; an assistant turn follows it. */
export interface MessagesRequest extends GenerationSettings {
  messages: ChatMessage[];
}

/** Plain text continued as it is, with no chat template (completions). */
export interface RawPromptRequest extends GenerationSettings {
  rawPrompt: string;
}

export type GenerateRequest = ChatTurnsRequest | MessagesRequest | RawPromptRequest;

/** The request's messages in order, or undefined for a raw prompt. */
export function messagesOf(request: GenerateRequest): ChatMessage[] | undefined {
  if ("rawPrompt" in request) return undefined;
  if ("messages" in request) return request.messages;
  const messages: ChatMessage[] = [{ role: "system", content: request.system }];
  for (const turn of request.history) {
    messages.push({ role: "user", content: turn.user }, { role: "assistant", content: turn.assistant });
  }
  messages.push({ role: "user", content: request.prompt });
  return messages;
}

/**
 * Why generation ended: "eos" the model (or the grammar) finished, "max_tokens" the budget ran out, "stop" a
 * stop string came, "aborted" the caller's signal.
 */
export type StopReason = "eos" | "max_tokens" | "stop" | "aborted" | "error";

export interface GenerateResult {
  text: string;
  stopReason: StopReason;
  /** Tokens generated. */
  tokens: number;
  /** Prompt tokens (template, contents and BOS), as `countTokens` counts them. */
  promptTokens?: number;
  /** How many of the prompt tokens came from cached KV cells without decoding (engines that know). */
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
  /**
   * Generates an answer; resolves with stopReason "aborted" and the partial text when the signal aborts.
   * @throws GatewayError `context_overflow` (before generating) when the prompt leaves no room in a sequence,
   *   `bad_request` for a schema or message the engine cannot use, `inference_failed` otherwise
   */
  generate(request: GenerateRequest, options: GenerateOptions): Promise<GenerateResult>;
  /** Renders and tokenizes the request's prompt as `generate` would, without generating. */
  countTokens(request: GenerateRequest): Promise<PromptTokenCount>;
  close(): Promise<void>;
}

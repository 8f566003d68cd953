import type { ChatHistoryItem, ChatWrapper, LlamaModel, Token } from "node-llama-cpp";
import { type GenerateRequest, messagesOf } from "./engine.ts";

/**
 * The chat history node-llama-cpp's chat wrapper renders: every message in order, then the assistant turn
 * that the answer opens. Contents are plain strings, which node-llama-cpp tokenizes as text: only the
 * wrapper's own parts become special tokens.
 */
export function chatHistoryOf(request: GenerateRequest): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = [];
  for (const { role, content } of messagesOf(request) ?? []) {
    if (role === "assistant") items.push({ type: "model", response: [content] });
    else items.push({ type: role, text: content });
  }
  items.push({ type: "model", response: [] });
  return items;
}

/** The prompt's tokens as the engine decodes them: the rendered chat, or a raw prompt after BOS. */
export function promptTokens(
  { model, chatWrapper }: { model: LlamaModel; chatWrapper: ChatWrapper },
  request: GenerateRequest,
): Token[] {
  if ("rawPrompt" in request) {
    const bos = model.tokens.bos;
    const text = model.tokenize(request.rawPrompt, false);
    return bos !== null && model.tokens.shouldPrependBosToken ? [bos, ...text] : text;
  }
  const { contextText } = chatWrapper.generateContextState({ chatHistory: chatHistoryOf(request) });
  return contextText.tokenize(model.tokenizer);
}

/**
 * Estimated prompt tokens of a text. The serving model's tokenizer is not at hand where knowledge is
 * indexed (the gateway has no model), so budgets use the usual English BPE ratio of about four
 * characters per token, rounded up; a budget is a limit on prompt size, not an exact count.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

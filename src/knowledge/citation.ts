import { z } from "zod";

/** Where a part of an answer came from; every channel renders these (links, cards, footnotes). */
export const CitationSchema = z.object({
  /** The number the source had in the prompt ("[1]"). */
  n: z.number().int().positive(),
  title: z.string(),
  /** The article's public URL from front matter, when it has one. */
  url: z.string().optional(),
  /** Path inside the knowledge folder plus heading anchor, e.g. `billing/refunds.md#partial-refunds`. */
  path: z.string(),
  heading: z.string().optional(),
  lines: z.tuple([z.number().int(), z.number().int()]).optional(),
});
export type Citation = z.infer<typeof CitationSchema>;

/** One retrieved knowledge snippet as it travels in a job and enters the prompt. */
export const SnippetSchema = z.object({
  citation: CitationSchema,
  text: z.string(),
  score: z.number(),
});
export type Snippet = z.infer<typeof SnippetSchema>;

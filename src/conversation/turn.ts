import { z } from "zod";
import { CitationSchema } from "../knowledge/citation.ts";

/** One exchange kept in a conversation's context. */
export const TurnSchema = z.object({
  /** The inference job id of this exchange, also the answer's message id. */
  id: z.string(),
  question: z.string(),
  answer: z.string(),
  citations: z.array(CitationSchema),
  /** When the answer was completed (ms since epoch). */
  at: z.number().int(),
  userId: z.string().optional(),
  feedback: z
    .object({ vote: z.enum(["up", "down"]), reason: z.string().optional(), at: z.number().int() })
    .optional(),
});
export type Turn = z.infer<typeof TurnSchema>;

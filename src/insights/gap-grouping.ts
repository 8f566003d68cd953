import { analyze, analyzeTerm, tokenize } from "../knowledge/text-analyzer.ts";
import type { ClosestFile, GapReason, GapRecord } from "./insights-store.ts";

/** Questions whose stemmed terms overlap this much (shared / smaller set) land in one group. */
const DEFAULT_MIN_OVERLAP = 0.5;
/** A group is compared through its first few members (single linkage, bounded). */
const COMPARED_MEMBERS = 6;

export interface GapGroup {
  /** The group's most frequent terms, a name for the topic. */
  label: string;
  count: number;
  reasons: Partial<Record<GapReason, number>>;
  channels: string[];
  /** Up to `examples` distinct (redacted) questions, most recent first. */
  examples: string[];
  /** Knowledge files that came closest across the group, best first. */
  closest: ClosestFile[];
  firstAt: number;
  lastAt: number;
}

export interface GroupOptions {
  minOverlap?: number;
  examples?: number;
}

interface Building {
  terms: string[][];
  gaps: GapRecord[];
}

function overlap(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const set = new Set(b);
  const shared = a.filter((t) => set.has(t)).length;
  return shared / Math.min(a.length, b.length);
}

/**
 * Groups gap questions by similarity: each question's stemmed, stop-word-free terms (the knowledge
 * index's own analyzer, so "refunds"/"refunded" meet) are compared with the members of existing groups
 * by the overlap coefficient. Greedy and order-dependent, which is fine for a curator's to-do list:
 * the biggest groups come first.
 */
export function groupGaps(
  gaps: GapRecord[],
  { minOverlap = DEFAULT_MIN_OVERLAP, examples = 3 }: GroupOptions = {},
): GapGroup[] {
  const groups: Building[] = [];
  const newestFirst = [...gaps].sort((a, b) => b.at - a.at);
  for (const gap of newestFirst) {
    const terms = analyze(gap.question);
    let best: Building | undefined;
    let bestScore = 0;
    for (const group of groups) {
      const score = Math.max(...group.terms.slice(0, COMPARED_MEMBERS).map((t) => overlap(terms, t)));
      if (score > bestScore) [best, bestScore] = [group, score];
    }
    if (best && bestScore >= minOverlap) {
      best.terms.push(terms);
      best.gaps.push(gap);
    } else {
      groups.push({ terms: [terms], gaps: [gap] });
    }
  }
  return groups.map((g) => summarise(g, examples)).sort((a, b) => b.count - a.count || b.lastAt - a.lastAt);
}

/** A word as people wrote it for each stem ("loyalty" for "loyalti"), so that labels read as words. */
function surfaceWords(questions: string[]): Map<string, string> {
  const words = new Map<string, string>();
  for (const q of questions) {
    for (const token of tokenize(q)) {
      const term = analyzeTerm(token);
      const word = token.toLowerCase();
      const known = words.get(term ?? "");
      if (term !== null && (known === undefined || word.length < known.length)) words.set(term, word);
    }
  }
  return words;
}

function summarise(group: Building, examples: number): GapGroup {
  const termCounts = new Map<string, number>();
  for (const terms of group.terms) for (const t of terms) termCounts.set(t, (termCounts.get(t) ?? 0) + 1);
  const words = surfaceWords(group.gaps.map((g) => g.question));
  const label = [...termCounts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([t]) => words.get(t) ?? t)
    .join(" ");
  const reasons: Partial<Record<GapReason, number>> = {};
  const channels = new Set<string>();
  const files = new Map<string, ClosestFile>();
  const seenExamples: string[] = [];
  for (const gap of group.gaps) {
    reasons[gap.reason] = (reasons[gap.reason] ?? 0) + 1;
    channels.add(gap.channel);
    if (seenExamples.length < examples && !seenExamples.includes(gap.question))
      seenExamples.push(gap.question);
    for (const file of gap.closest) {
      const known = files.get(file.path);
      if (!known || known.score < file.score) files.set(file.path, file);
    }
  }
  const ats = group.gaps.map((g) => g.at);
  return {
    label: label || "(no terms)",
    count: group.gaps.length,
    reasons,
    channels: [...channels].sort(),
    examples: seenExamples,
    closest: [...files.values()].sort((a, b) => b.score - a.score).slice(0, 3),
    firstAt: Math.min(...ats),
    lastAt: Math.max(...ats),
  };
}

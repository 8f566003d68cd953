import type { Config } from "../config.ts";
import { type GapGroup, groupGaps } from "../insights/gap-grouping.ts";
import { openInsights } from "../insights/insights-access.ts";
import { parseSince } from "../insights/support-report.ts";

export interface GapsOptions {
  since?: string;
  json?: boolean;
  /** Groups shown (text output). @defaultValue 20 */
  limit?: number;
}

function describe(group: GapGroup, index: number): string[] {
  const reasons = Object.entries(group.reasons)
    .map(([r, n]) => `${r} ${n}`)
    .join(", ");
  const lines = [
    `${index + 1}. ${group.label}  (${group.count} question${group.count === 1 ? "" : "s"}: ${reasons}; ${group.channels.join(", ")})`,
  ];
  for (const example of group.examples) lines.push(`     "${example}"`);
  lines.push(
    group.closest.length === 0
      ? "     closest: nothing in the knowledge folder"
      : `     closest: ${group.closest.map((c) => `${c.path} (${c.score.toFixed(2)})`).join(", ")}`,
  );
  return lines;
}

/**
 * `npm run kb -- gaps [--since 7d] [--json]`: the questions the bot could not answer well, grouped by
 * similarity, biggest first, with examples and the knowledge files that came closest.
 */
export async function runGaps(
  config: Config,
  options: GapsOptions,
  out: (line?: string) => void,
): Promise<number> {
  const windowMs = parseSince(options.since ?? "7d");
  const { store, close } = await openInsights(config);
  try {
    const since = Date.now() - windowMs;
    const gaps = await store.gaps(since);
    const groups = groupGaps(gaps);
    if (options.json) {
      out(JSON.stringify({ since, gaps: gaps.length, groups }));
      return 0;
    }
    if (groups.length === 0) {
      out(`No gaps recorded since ${new Date(since).toISOString()}.`);
      return 0;
    }
    out(`${gaps.length} gaps in ${groups.length} groups since ${new Date(since).toISOString()}:`);
    out();
    groups.slice(0, options.limit ?? 20).forEach((g, i) => {
      for (const line of describe(g, i)) out(line);
    });
    return 0;
  } finally {
    close();
  }
}

import { parseArgs } from "node:util";
import type { Config } from "../config.ts";
import { openInsights } from "../insights/insights-access.ts";
import { buildReport, formatReport, parseSince } from "../insights/support-report.ts";

const usage = `Usage: npm run report -- [--since 7d] [--format md|csv|json]

Per channel and in total: questions, deflection (answered from knowledge in conversations never handed
off), thumbs-up rate, handoffs and median time to first token, over the window (default 7 days).
`;

/** `npm run report`: the support figures from the analytics streams. Exit 0, or 2 on a usage error. */
export async function runReport(
  argv: string[],
  config: Config,
  io: { stdout: { write(t: string): unknown }; stderr: { write(t: string): unknown } },
): Promise<number> {
  let values: { since?: string; format?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        since: { type: "string" },
        format: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    io.stderr.write(`report: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(usage);
    return 0;
  }
  const format = values.format ?? "md";
  if (format !== "md" && format !== "csv" && format !== "json") {
    io.stderr.write(`report: --format must be md, csv or json (got "${format}")\n`);
    return 2;
  }
  const windowMs = parseSince(values.since ?? "7d");
  const { store, close } = await openInsights(config);
  try {
    const until = Date.now();
    const since = until - windowMs;
    io.stdout.write(`${formatReport(buildReport(await store.events(since), since, until), format)}\n`);
    return 0;
  } finally {
    close();
  }
}

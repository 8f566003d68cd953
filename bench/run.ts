import { say } from "./stats.ts";

/**
 * `npm run bench [-- --json] [-- --only name,name]`: runs every benchmark and prints tables, or one
 * JSON object with every figure on stdout (tables then go to stderr).
 */
type Bench = (json: boolean) => Promise<Record<string, unknown>>;

const benches: Record<string, () => Promise<Bench>> = {
  spine: async () => (await import("./spine-bench.ts")).runSpineBench,
};

async function optional(name: string, path: string, exportName: string): Promise<void> {
  try {
    const mod = (await import(path)) as Record<string, unknown>;
    const fn = mod[exportName];
    if (typeof fn === "function") benches[name] = async () => fn as Bench;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const onlyIndex = args.indexOf("--only");
  const only = onlyIndex >= 0 ? (args[onlyIndex + 1] ?? "").split(",") : undefined;
  await optional("knowledge", "./knowledge-bench.ts", "runKnowledgeBench");
  await optional("slack", "./slack-bench.ts", "runSlackBench");
  await optional("teams", "./teams-bench.ts", "runTeamsBench");
  await optional("widget", "./widget-bench.ts", "runWidgetBench");
  await optional("support", "./support-bench.ts", "runSupportBench");
  await optional("load", "./load-bench.ts", "runLoadBench");
  await optional("startup", "./startup-bench.ts", "runStartupBench");
  const out: Record<string, unknown> = {};
  for (const [name, load] of Object.entries(benches)) {
    if (only && !only.includes(name)) continue;
    say(json, `\n== ${name} ==`);
    out[name] = await (await load())(json);
  }
  if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

void main();

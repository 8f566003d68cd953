import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Prints the GPU benchmark table from the JSON lines in a folder: llama-batched-bench's
 * (`--output-format jsonl`) as the anchor, and engine-bench / job-bench lines. Every figure of ours is
 * also given as a fraction of the anchor's at the same batch size.
 *
 *   report.ts <results-folder>
 */
interface Anchor {
  pl: number;
  tg: number;
  t_pp: number;
  t_tg: number;
  t: number;
  speed_tg: number;
}
interface Ours {
  path: string;
  /** What else set this run apart (job-bench --label). */
  label?: string;
  order?: string;
  gatherMs?: number;
  scheduler?: string;
  batch: number;
  tokPerS: number;
  decodeTokPerS: number;
  ttftMedianMs: number;
  ttftMaxMs: number;
  sequencesPerDecode?: number | null;
  microBatchRunsPerDecode?: number | null;
  nativeDecodeMsPerStep?: number | null;
  gapMsPerStep?: number | null;
}

const dir = process.argv[2];
if (!dir) throw new Error("usage: report.ts <results-folder>");
interface Sustained {
  path: string;
  rate: number;
  seconds: number;
  sequences: number;
  messages: number;
  answersPerS: number;
  tokPerS: number;
  maxInFlight: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  ttftP99Ms: number;
  answerP50Ms: number;
  answerP99Ms: number;
}
const sustained: Sustained[] = [];
const anchors = new Map<number, Anchor>();
const rows = new Map<string, Map<number, Ours>>();
for (const file of readdirSync(dir).filter((f) => f.endsWith(".jsonl"))) {
  for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    const record = JSON.parse(line) as Partial<Anchor & Ours>;
    if (typeof record.speed_tg === "number") anchors.set(record.pl as number, record as Anchor);
    else if (typeof (record as Partial<Sustained>).rate === "number")
      sustained.push(record as unknown as Sustained);
    else if (typeof record.path === "string") {
      const r = record as Ours;
      const parts = r.path.split("-");
      const stepTokens = parts.find((p) => /^b\d+$/.test(p))?.slice(1);
      const questions = parts.includes("varied")
        ? "varied questions (sources differ)"
        : "one topic (prompts share rules and sources)";
      const name = !r.path.startsWith("job")
        ? `${r.path}: ${r.scheduler ?? "session"} scheduler, ${r.order} order${r.gatherMs ? `, gather ${r.gatherMs} ms` : ""}`
        : parts[1] !== "native"
          ? `job path (BullMQ job → worker → Redis reply stream; default engine), ${questions}`
          : `job path, ENGINE=native (${parts.includes("kvu") ? "unified KV" : "KV per sequence"}, prefix cache ${parts.includes("nocache") ? "off" : "on"}${stepTokens ? `, ${stepTokens} tokens per step` : ""}), ${questions}`;
      const labelled = r.label ? `${name} [${r.label}]` : name;
      if (!rows.has(labelled)) rows.set(labelled, new Map());
      rows.get(labelled)?.set(r.batch, r);
    }
  }
}

const batches = [...new Set([...anchors.keys(), ...[...rows.values()].flatMap((m) => [...m.keys()])])].sort(
  (a, b) => a - b,
);
const cell = (s: string) => s.padStart(16);
const pct = (x: number, of: number | undefined) => (of ? ` ${Math.round((x / of) * 100)}%` : "");
const lines: string[] = [];
lines.push(`${"".padEnd(58)}${batches.map((b) => cell(`batch ${b}`)).join("")}`);
const anchorAggregate = (a: Anchor | undefined) => (a ? (a.pl * a.tg) / a.t : undefined);
lines.push(
  `${"llama-batched-bench  decode tok/s".padEnd(58)}${batches.map((b) => cell(String(Math.round(anchors.get(b)?.speed_tg ?? Number.NaN)))).join("")}`,
);
lines.push(
  `${"llama-batched-bench  generated tok/s over prompt+decode".padEnd(58)}${batches.map((b) => cell(String(Math.round(anchorAggregate(anchors.get(b)) ?? Number.NaN)))).join("")}`,
);
lines.push(
  `${"llama-batched-bench  prompt time ms (all first tokens)".padEnd(58)}${batches.map((b) => cell(String(Math.round((anchors.get(b)?.t_pp ?? Number.NaN) * 1000)))).join("")}`,
);
for (const [name, byBatch] of rows) {
  lines.push(name);
  const get = (b: number) => byBatch.get(b);
  lines.push(
    `${"  aggregate tok/s (vs anchor's generated tok/s)".padEnd(58)}${batches.map((b) => cell(get(b) ? `${get(b)?.tokPerS}${pct(get(b)?.tokPerS ?? 0, anchorAggregate(anchors.get(b)))}` : "-")).join("")}`,
  );
  lines.push(
    `${"  decode tok/s (vs anchor's decode tok/s)".padEnd(58)}${batches.map((b) => cell(get(b) ? `${get(b)?.decodeTokPerS}${pct(get(b)?.decodeTokPerS ?? 0, anchors.get(b)?.speed_tg)}` : "-")).join("")}`,
  );
  lines.push(
    `${"  TTFT ms median / max".padEnd(58)}${batches.map((b) => cell(get(b) ? `${get(b)?.ttftMedianMs} / ${get(b)?.ttftMaxMs}` : "-")).join("")}`,
  );
  if ([...byBatch.values()].some((r) => r.nativeDecodeMsPerStep != null)) {
    lines.push(
      `${"  ms per step: in llama_decode / between decodes".padEnd(58)}${batches.map((b) => cell(get(b)?.nativeDecodeMsPerStep != null ? `${get(b)?.nativeDecodeMsPerStep} / ${get(b)?.gapMsPerStep}` : "-")).join("")}`,
    );
  }
  if ([...byBatch.values()].some((r) => r.sequencesPerDecode != null)) {
    lines.push(
      `${"  sequences per decode / micro-batch runs per decode".padEnd(58)}${batches.map((b) => cell(get(b)?.sequencesPerDecode != null ? `${get(b)?.sequencesPerDecode} / ${get(b)?.microBatchRunsPerDecode}` : "-")).join("")}`,
    );
  }
}
if (sustained.length > 0) {
  lines.push("sustained arrivals (exponential gaps; times from each message's own submit)");
  const heads = [
    "rate/s",
    "seconds",
    "seqs",
    "answers/s",
    "tok/s",
    "max in flight",
    "TTFT p50/p95/p99 ms",
    "answer p50/p99 ms",
  ];
  const row = (values: (string | number)[]) =>
    values.map((v, i) => String(v).padStart(Math.max(10, (heads[i]?.length ?? 0) + 2))).join("");
  lines.push(`  ${"path".padEnd(28)}${row(heads)}`);
  for (const r of sustained) {
    const ttft = `${r.ttftP50Ms}/${r.ttftP95Ms}/${r.ttftP99Ms}`;
    lines.push(
      `  ${r.path.padEnd(28)}${row([r.rate, r.seconds, r.sequences, r.answersPerS, r.tokPerS, r.maxInFlight, ttft, `${r.answerP50Ms}/${r.answerP99Ms}`])}`,
    );
  }
}
console.log(lines.join("\n"));

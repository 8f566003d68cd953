import { ErrorCode, GatewayError } from "../errors.ts";
import type { InsightEvent } from "./insights-store.ts";

/** One channel's figures over the report window (or "all" channels together). */
export interface ChannelFigures {
  channel: string;
  questions: number;
  /** Questions answered from knowledge (answer or excerpt) in conversations that were never handed off. */
  deflected: number;
  /** deflected / questions; null when there were no questions. */
  deflectionRate: number | null;
  thumbsUp: number;
  thumbsDown: number;
  /** up / (up + down), the latest vote per answer; null without votes. */
  thumbsUpRate: number | null;
  handoffs: number;
  /** Median time from accepting a question to the first streamed text of its answer, in ms. */
  medianTtftMs: number | null;
}

export interface SupportReport {
  since: number;
  until: number;
  channels: ChannelFigures[];
  total: ChannelFigures;
}

const ANSWERED = new Set(["answer", "excerpt"]);
/** Fixed messages (handoff notices, relayed human replies) are not model answers: no latency figure. */
const TIMED = new Set(["answer", "excerpt", "no_answer", "no_model"]);

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Computes the report from analytics events (already limited to the window). */
export function buildReport(events: InsightEvent[], since: number, until: number): SupportReport {
  const answers = new Map<string, { kind: string; ttftMs: number }>();
  const votes = new Map<string, { channel: string; vote: "up" | "down" }>();
  const handedOff = new Set<string>();
  for (const e of events) {
    if (e.type === "a" && !answers.has(e.messageId))
      answers.set(e.messageId, { kind: e.kind, ttftMs: e.ttftMs });
    else if (e.type === "f") votes.set(e.messageId, { channel: e.channel, vote: e.vote });
    else if (e.type === "h") handedOff.add(`${e.channel}\u0000${e.tenant}\u0000${e.conversationKey}`);
  }
  const names = new Set<string>();
  for (const e of events) names.add(e.channel);
  const figures = (channel: string | undefined): ChannelFigures => {
    const mine = (c: string) => channel === undefined || c === channel;
    let questions = 0;
    let deflected = 0;
    let handoffs = 0;
    const ttfts: number[] = [];
    for (const e of events) {
      if (!mine(e.channel)) continue;
      if (e.type === "q") {
        questions += 1;
        const answer = answers.get(e.messageId);
        const conv = `${e.channel}\u0000${e.tenant}\u0000${e.conversationKey}`;
        if (answer && ANSWERED.has(answer.kind) && !handedOff.has(conv)) deflected += 1;
        if (answer && TIMED.has(answer.kind)) ttfts.push(answer.ttftMs);
      } else if (e.type === "h") handoffs += 1;
    }
    let up = 0;
    let down = 0;
    for (const v of votes.values()) {
      if (!mine(v.channel)) continue;
      if (v.vote === "up") up += 1;
      else down += 1;
    }
    return {
      channel: channel ?? "all",
      questions,
      deflected,
      deflectionRate: questions === 0 ? null : deflected / questions,
      thumbsUp: up,
      thumbsDown: down,
      thumbsUpRate: up + down === 0 ? null : up / (up + down),
      handoffs,
      medianTtftMs: median(ttfts),
    };
  };
  return {
    since,
    until,
    channels: [...names].sort().map((c) => figures(c)),
    total: figures(undefined),
  };
}

const pct = (v: number | null) => (v === null ? "-" : `${(v * 100).toFixed(1)}%`);
const ms = (v: number | null) => (v === null ? "-" : `${Math.round(v)} ms`);

/** The report as a Markdown table, CSV (one row per channel plus "all") or JSON. */
export function formatReport(report: SupportReport, format: "md" | "csv" | "json"): string {
  const rows = [...report.channels, report.total];
  if (format === "json") return JSON.stringify(report, null, 2);
  if (format === "csv") {
    const header =
      "channel,questions,deflected,deflection_rate,thumbs_up,thumbs_down,thumbs_up_rate,handoffs,median_ttft_ms";
    const line = (r: ChannelFigures) =>
      [
        r.channel,
        r.questions,
        r.deflected,
        r.deflectionRate?.toFixed(4) ?? "",
        r.thumbsUp,
        r.thumbsDown,
        r.thumbsUpRate?.toFixed(4) ?? "",
        r.handoffs,
        r.medianTtftMs === null ? "" : Math.round(r.medianTtftMs),
      ].join(",");
    return [header, ...rows.map(line)].join("\n");
  }
  const span = `${new Date(report.since).toISOString()} – ${new Date(report.until).toISOString()}`;
  const lines = [
    `# Support report (${span})`,
    "",
    "| channel | questions | deflection | thumbs up | handoffs | median time to first token |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.channel} | ${r.questions} | ${pct(r.deflectionRate)} (${r.deflected}) | ${pct(r.thumbsUpRate)} (${r.thumbsUp}/${r.thumbsUp + r.thumbsDown}) | ${r.handoffs} | ${ms(r.medianTtftMs)} |`,
    ),
  ];
  return lines.join("\n");
}

/** Parses "7d", "12h", "30m" or a plain number of days into milliseconds. */
export function parseSince(value: string): number {
  const m = /^(\d+(?:\.\d+)?)([dhm]?)$/.exec(value.trim());
  if (!m)
    throw new GatewayError(ErrorCode.BadRequest, `since "${value}": use a duration like 7d, 12h or 30m.`);
  const n = Number(m[1]);
  const unit = m[2] === "h" ? 3_600_000 : m[2] === "m" ? 60_000 : 86_400_000;
  return n * unit;
}

/**
 * Fits the answerability model's weights (src/knowledge/answerability.ts) on the development sets
 * (bench/dev-sets.ts) and prints them, with what they give per collection: fitted on every
 * collection, and held out (fitted without the collection it is judged on). A logistic regression
 * over a handful of ratio features, each (collection, class) group weighed equally so that neither
 * CovidFAQ's 1,387 questions nor the off-topic list dominates.
 *
 *   npx tsx bench/answerability-fit.ts [--seeds 1,2,3] [--caution 0.5] [--json]
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AnswerabilityFeatures,
  type AnswerabilityWeights,
  answerabilityFeatures,
  confidenceOf,
  FEATURE_NAMES,
  featureVector,
} from "../src/knowledge/answerability.ts";
import { quotedSnippets } from "../src/knowledge/excerpt-answer.ts";
import { createKnowledgeBase } from "../src/knowledge/knowledge-base.ts";
import { createLogger } from "../src/logger.ts";
import { buildDevCollections, type DevCollection } from "./dev-sets.ts";
import { round, say, table } from "./stats.ts";

export interface Sample {
  source: string;
  kind: "answerable" | "missing" | "offTopic";
  features: AnswerabilityFeatures;
  /** Answerable questions: the expected file is among the sources the excerpt answer cites. */
  rightCited: boolean;
  /** Nothing matched at all: refused whatever the weights. */
  noMatch: boolean;
  /** The gateway's decision at the default caution (RETRIEVAL_CAUTION). */
  answerable: boolean;
}

/** Features of every question of a collection, as the gateway would compute them. */
export async function samplesOf(c: DevCollection, useLang = false): Promise<Sample[]> {
  const kb = await createKnowledgeBase({ dir: c.knowledge, logger: createLogger({ level: "silent" }) });
  const out: Sample[] = [];
  const source = c.name.split("#")[0] ?? c.name;
  try {
    const sets = [
      ["answerable", c.answerable],
      ["missing", c.missing],
      ["offTopic", c.offTopic],
    ] as const;
    for (const [kind, questions] of sets) {
      for (const q of questions) {
        const lang = useLang && q.lang ? { lang: q.lang } : {};
        const ranking = await kb.rank(q.question, { limit: 40, ...lang });
        const features = answerabilityFeatures(ranking);
        const { snippets, answerable } = await kb.retrieve(q.question, { tokenBudget: 1200, ...lang });
        const cited = quotedSnippets(snippets).map((s) => s.citation.path.split("#")[0]);
        out.push({
          source,
          kind,
          features,
          rightCited: kind === "answerable" && cited.includes(q.expected),
          noMatch: ranking.hits.length === 0 || features.coverage === 0 || snippets.length === 0,
          answerable,
        });
      }
    }
  } finally {
    await kb.close();
  }
  return out;
}

const names = FEATURE_NAMES;

/** Logistic regression by gradient descent, L2-regularised, with per-sample weights. */
export function fit(samples: readonly Sample[], iterations = 3000): AnswerabilityWeights {
  const groups = new Map<string, number>();
  const groupOf = (s: Sample) => `${s.source}/${s.kind === "answerable" ? "yes" : s.kind}`;
  for (const s of samples) groups.set(groupOf(s), (groups.get(groupOf(s)) ?? 0) + 1);
  // Each collection's answerable questions weigh 1 in all; its missing and off-topic ones 0.5 each.
  const weightOf = (s: Sample) => (s.kind === "answerable" ? 1 : 0.5) / (groups.get(groupOf(s)) ?? 1);
  const xs = samples.map((s) => featureVector(s.features));
  const ys = samples.map((s) => (s.kind === "answerable" ? 1 : 0));
  const ws = samples.map(weightOf);
  const total = ws.reduce((a, b) => a + b, 0);
  const dims = names.length;
  const w = new Float64Array(dims + 1);
  const lr = 2;
  const l2 = 1e-3;
  for (let it = 0; it < iterations; it++) {
    const grad = new Float64Array(dims + 1);
    xs.forEach((x, i) => {
      let z = w[0] ?? 0;
      for (let j = 0; j < dims; j++) z += (w[j + 1] ?? 0) * (x[j] ?? 0);
      const err = (1 / (1 + Math.exp(-z)) - (ys[i] ?? 0)) * (ws[i] ?? 0);
      grad[0] = (grad[0] ?? 0) + err;
      for (let j = 0; j < dims; j++) grad[j + 1] = (grad[j + 1] ?? 0) + err * (x[j] ?? 0);
    });
    for (let j = 0; j <= dims; j++) {
      const reg = j === 0 ? 0 : l2 * (w[j] ?? 0);
      w[j] = (w[j] ?? 0) - lr * ((grad[j] ?? 0) / total + reg);
    }
  }
  const r = (x: number) => Math.round(x * 100) / 100;
  const out = { bias: r(w[0] ?? 0) } as AnswerabilityWeights;
  names.forEach((name, j) => {
    out[name] = r(w[j + 1] ?? 0);
  });
  return out;
}

export interface Outcome {
  answerable: number;
  answeredRight: number;
  missing: number;
  missingAbstained: number;
  offTopic: number;
  offTopicAbstained: number;
}

/**
 * What the bot would do with these samples: at a caution setting with these weights, or with a
 * given rule (`(s) => s.answerable` for the gateway's own decision, `(s) => !s.noMatch` for the
 * relevance floor alone, as before the decision existed).
 */
export function outcome(
  samples: readonly Sample[],
  weights: AnswerabilityWeights | ((s: Sample) => boolean),
  caution = 0.5,
): Outcome {
  const o: Outcome = {
    answerable: 0,
    answeredRight: 0,
    missing: 0,
    missingAbstained: 0,
    offTopic: 0,
    offTopicAbstained: 0,
  };
  for (const s of samples) {
    const answers =
      typeof weights === "function" ? weights(s) : !s.noMatch && confidenceOf(s.features, weights) >= caution;
    if (s.kind === "answerable") {
      o.answerable++;
      if (answers && s.rightCited) o.answeredRight++;
    } else if (s.kind === "missing") {
      o.missing++;
      if (!answers) o.missingAbstained++;
    } else {
      o.offTopic++;
      if (!answers) o.offTopicAbstained++;
    }
  }
  return o;
}

export const rates = (o: Outcome) => ({
  answeredRight: round(o.answeredRight / Math.max(1, o.answerable), 3),
  missingAbstention: round(o.missingAbstained / Math.max(1, o.missing), 3),
  offTopicAbstention: round(o.offTopicAbstained / Math.max(1, o.offTopic), 3),
});

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const seeds = (arg("--seeds") ?? "1,2,3").split(",").map(Number);
  const caution = Number(arg("--caution") ?? "0.5");
  const { collections, cleanup } = await buildDevCollections(seeds);
  try {
    const samples: Sample[] = [];
    for (const c of collections) samples.push(...(await samplesOf(c)));
    const weights = fit(samples);
    say(json, `weights (all collections): ${JSON.stringify(weights)}`);
    const sources = [...new Set(samples.map((s) => s.source))];
    const rows: (string | number)[][] = [];
    const result: Record<string, unknown> = { weights, caution };
    for (const source of sources) {
      const mine = samples.filter((s) => s.source === source);
      const heldOut = fit(samples.filter((s) => s.source !== source));
      const all = rates(outcome(mine, weights, caution));
      const held = rates(outcome(mine, heldOut, caution));
      result[source] = { fitted: all, heldOut: held, heldOutWeights: heldOut };
      rows.push([
        source,
        mine.filter((s) => s.kind === "answerable").length,
        all.answeredRight,
        all.missingAbstention,
        all.offTopicAbstention,
        held.answeredRight,
        held.missingAbstention,
        held.offTopicAbstention,
      ]);
    }
    say(
      json,
      table(
        [
          "collection",
          "answerable",
          "answered right",
          "missing refused",
          "off-topic refused",
          "held out: right",
          "held out: missing",
          "held out: off-topic",
        ],
        rows,
      ),
    );
    // What the one setting does: the same weights at other caution values.
    const sweep: (string | number)[][] = [];
    for (const c of [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]) {
      for (const source of sources) {
        const r = rates(
          outcome(
            samples.filter((s) => s.source === source),
            weights,
            c,
          ),
        );
        sweep.push([c, source, r.answeredRight, r.missingAbstention, r.offTopicAbstention]);
      }
    }
    say(
      json,
      table(["caution", "collection", "answered right", "missing refused", "off-topic refused"], sweep),
    );
    result.sweep = sweep;
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await cleanup();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

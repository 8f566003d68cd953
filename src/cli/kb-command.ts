import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { isCodedError } from "../errors.ts";
import { FolderLoader } from "../knowledge/folder-loader.ts";
import { createKnowledgeBase, type KnowledgeBase } from "../knowledge/knowledge-base.ts";
import { formatProblem } from "../knowledge/knowledge-document.ts";
import { countUnanswered, evaluateRetrieval, parseQuestions } from "../knowledge/retrieval-eval.ts";
import { createLogger } from "../logger.ts";

/** Where the command writes; `isTTY` turns the indexing progress bar on. */
export interface KbIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

const usage = `Usage: npm run kb -- <command> [options]

Commands:
  lint                      check every knowledge file; prints path:line: message, exit 1 if any problem
  search "question"         ranked snippets with scores and citations, as the bot would get them
  stats                     files, chunks, tokens, and what was skipped and why
  eval --questions FILE     recall@1, recall@5 and MRR@10 of a JSONL file of {"question", "expected"}
  gaps                      questions the bot could not answer (no snippet, thumbs down, handoff),
                            grouped by similarity, with examples and the closest knowledge files

Options:
  --knowledge DIR           the knowledge folder (default: KNOWLEDGE_DIR, ./knowledge)
  --embedding-model PATH    an embedding GGUF for hybrid retrieval (default: EMBEDDING_MODEL_PATH)
  --word-vectors            fuse BM25 with offline word vectors (default: KNOWLEDGE_WORD_VECTORS)
  --budget N                search: token budget (default: RETRIEVAL_TOKEN_BUDGET)
  --all                     search: show the full ranking, below the relevance floor too
  --since 7d                gaps: how far back (d, h or m; default 7d)
  --json                    one JSON object on stdout
`;

const options = {
  knowledge: { type: "string" },
  questions: { type: "string" },
  "embedding-model": { type: "string" },
  "word-vectors": { type: "boolean" },
  budget: { type: "string" },
  all: { type: "boolean" },
  json: { type: "boolean" },
  since: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** A progress bar on stderr, only when it is a terminal (CI logs stay clean). */
function progressBar(io: KbIo): ((done: number, total: number) => void) | undefined {
  if (!io.stderr.isTTY) return undefined;
  let last = -1;
  return (done, total) => {
    const width = 30;
    const filled = Math.round((done / Math.max(1, total)) * width);
    if (filled === last && done !== total) return;
    last = filled;
    io.stderr.write(`\rindexing [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total} files`);
    if (done === total) io.stderr.write("\n");
  };
}

/**
 * `npm run kb -- <command>`: tools for support leads and CI over the knowledge folder.
 * @returns the process exit code: 0 fine, 1 problems found, 2 usage or setup error.
 */
export async function runKb(argv: string[], io: KbIo): Promise<number> {
  const out = (line = "") => io.stdout.write(`${line}\n`);
  const err = (line: string) => io.stderr.write(`${line}\n`);
  let args: ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;
  try {
    args = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (error) {
    err(`kb: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const [command, ...rest] = args.positionals;
  if (args.values.help || command === undefined || command === "help") {
    io.stdout.write(usage);
    return command === undefined && !args.values.help ? 2 : 0;
  }
  let kb: KnowledgeBase | undefined;
  try {
    const config = loadConfig();
    const dir = args.values.knowledge ?? config.knowledge.dir;
    const open = async () => {
      kb = await createKnowledgeBase({
        dir,
        watch: false,
        embeddingModelPath: args.values["embedding-model"] ?? config.knowledge.embeddingModelPath,
        wordVectors: args.values["word-vectors"] ?? config.knowledge.wordVectors,
        logger: createLogger({ level: "silent" }),
        minScore: config.knowledge.minScore,
        onProgress: progressBar(io),
      });
      if (!kb.stats().exists) throw new Error(`knowledge folder not found: ${dir}`);
      return kb;
    };
    switch (command) {
      case "gaps": {
        const { runGaps } = await import("./gaps-command.ts");
        return await runGaps(
          config,
          {
            ...(args.values.since ? { since: args.values.since } : {}),
            ...(args.values.json ? { json: true } : {}),
          },
          out,
        );
      }
      case "lint": {
        const folder = await new FolderLoader(dir).load(progressBar(io));
        if (!folder.exists) throw new Error(`knowledge folder not found: ${dir}`);
        for (const p of folder.problems) out(formatProblem(p));
        const files = folder.documents.length + folder.skipped.length;
        err(`${files} files checked, ${folder.problems.length} problems, ${folder.skipped.length} skipped`);
        return folder.problems.length > 0 ? 1 : 0;
      }
      case "search": {
        const question = rest.join(" ").trim();
        if (!question) throw new Error('search needs a question: npm run kb -- search "how do I ..."');
        const base = await open();
        const budget = args.values.budget ? Number(args.values.budget) : config.knowledge.tokenBudget;
        if (!Number.isInteger(budget) || budget < 1) throw new Error("--budget must be a positive integer");
        if (args.values.all) {
          const ranked = await base.search(question, 20);
          if (args.values.json)
            out(JSON.stringify(ranked.map(({ chunk, ...s }) => ({ ...s, id: chunk.id }))));
          else {
            ranked.forEach((r, i) => {
              out(`${i + 1}. relevance ${r.relevance.toFixed(3)}  ${r.chunk.id}`);
            });
          }
          return 0;
        }
        const snippets = await base.retrieve(question, { tokenBudget: budget });
        if (args.values.json) {
          out(JSON.stringify({ question, snippets }));
          return 0;
        }
        if (snippets.length === 0) {
          out(
            "No snippet clears the relevance floor: the bot would say it does not know and offer a person.",
          );
          return 0;
        }
        for (const s of snippets) {
          const c = s.citation;
          out(`[${c.n}] score ${s.score.toFixed(3)}  ${c.title}${c.heading ? ` > ${c.heading}` : ""}`);
          out(`    ${c.url ?? c.path}  (lines ${c.lines?.join("-") ?? "?"})`);
          out(`    ${s.text.replace(/\s+/g, " ").slice(0, 160)}`);
        }
        return 0;
      }
      case "stats": {
        const s = (await open()).stats();
        if (args.values.json) {
          out(JSON.stringify(s));
          return 0;
        }
        out(`folder:  ${s.dir}`);
        out(`files:   ${s.files}`);
        out(`chunks:  ${s.chunks}`);
        out(`tokens:  ${s.tokens} (estimated)`);
        out(`dense:   ${s.dense ? `on (${s.embedder})` : "off (lexical only)"}`);
        out(`skipped: ${s.skipped.length}`);
        for (const p of s.skipped) out(`  ${formatProblem(p)}`);
        return 0;
      }
      case "eval": {
        if (!args.values.questions) throw new Error("eval needs --questions FILE (JSONL)");
        const text = await readFile(args.values.questions, "utf8");
        const questions = parseQuestions(text, args.values.questions);
        const base = await open();
        const result = await evaluateRetrieval(base, questions);
        if (args.values.json) {
          out(JSON.stringify(result));
          return 0;
        }
        out(`questions  ${result.questions}`);
        out(`recall@1   ${result["recall@1"].toFixed(3)}`);
        out(`recall@5   ${result["recall@5"].toFixed(3)}`);
        out(`MRR@10     ${result["mrr@10"].toFixed(3)}`);
        const unanswered = await countUnanswered(base, questions, config.knowledge.tokenBudget);
        out(`no answer  ${unanswered} (nothing above the relevance floor: the bot would offer a person)`);
        return 0;
      }
      default:
        err(`kb: unknown command "${command}"\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    err(`kb: ${isCodedError(error) ? error.message : (error as Error).message}`);
    return 2;
  } finally {
    await kb?.close();
  }
}

import { parseArgs } from "node:util";
import { type Config, loadConfig } from "../config.ts";
import { isCodedError } from "../errors.ts";
import { FolderLoader } from "../knowledge/folder-loader.ts";
import { createKnowledgeBase, type KnowledgeBase } from "../knowledge/knowledge-base.ts";
import { formatProblem } from "../knowledge/knowledge-document.ts";
import { tenantFolder } from "../knowledge/tenant-knowledge.ts";
import { createLogger } from "../logger.ts";
import { runKbEval } from "./kb-eval.ts";
import { printSearch } from "./kb-search.ts";
import { safeText } from "./safe-text.ts";

/** Where the command writes; `isTTY` turns the indexing progress bar on. */
export interface KbIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

const usage = `Usage: npm run kb -- <command> [options]

Commands:
  lint                      check every knowledge file; prints path:line:column: message; exit 1 on
                            errors (warnings too with --strict)
  search "question"         the bot's decision (answer or not, confidence) and the ranked snippets
  stats                     files, chunks, tokens, languages, and what was skipped and why
  eval --questions FILE     recall@1, recall@5, MRR@10 and the misses, of a JSONL file of
                            {"question", "expected", "lang"?}; with --unanswerable FILE (JSONL of
                            {"question"}), the share of those the bot refuses
  gaps                      questions the bot could not answer (no answer, low confidence, thumbs
                            down, handoff), grouped by similarity, with the closest knowledge files

Options:
  --knowledge DIR           the knowledge folder (default: KNOWLEDGE_DIR, ./knowledge)
  --tenant ID               the folder of this tenant (KNOWLEDGE_TENANTS, WEBCHAT_SITES "knowledge")
  --embedding-model PATH    an embedding GGUF for hybrid retrieval (default: EMBEDDING_MODEL_PATH)
  --word-vectors            fuse BM25 with offline word vectors (default: KNOWLEDGE_WORD_VECTORS)
  --caution X               how cautious the answer decision is, 0..1 (default: RETRIEVAL_CAUTION)
  --lang TAG                search: the question's language (default: detected)
  --budget N                search: token budget (default: RETRIEVAL_TOKEN_BUDGET)
  --all                     search: show the full ranking, below the relevance floor too
  --strict                  lint: warnings fail too (for CI)
  --since 7d                gaps: how far back (d, h or m; default 7d)
  --json                    one JSON object on stdout
`;

const options = {
  knowledge: { type: "string" },
  tenant: { type: "string" },
  questions: { type: "string" },
  unanswerable: { type: "string" },
  "embedding-model": { type: "string" },
  "word-vectors": { type: "boolean" },
  caution: { type: "string" },
  lang: { type: "string" },
  budget: { type: "string" },
  all: { type: "boolean" },
  strict: { type: "boolean" },
  json: { type: "boolean" },
  since: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export type KbArgs = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>;

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

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The folder a command reads, and the subfolders it leaves to tenants. */
function folderOf(args: KbArgs, config: Config): { dir: string; exclude: string[] } {
  if (args.values.knowledge) return { dir: args.values.knowledge, exclude: [] };
  return tenantFolder(config.knowledge, args.values.tenant);
}

/**
 * `npm run kb -- <command>`: tools for support leads and CI over the knowledge folder.
 * @returns the process exit code: 0 fine, 1 problems found, 2 usage or setup error.
 */
export async function runKb(argv: string[], io: KbIo): Promise<number> {
  // File text and questions may hold terminal escapes: nothing reaches the terminal raw.
  const out = (line = "") => io.stdout.write(`${safeText(line)}\n`);
  const err = (line: string) => io.stderr.write(`${safeText(line)}\n`);
  let args: KbArgs;
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
    const { dir, exclude } = folderOf(args, config);
    const caution =
      args.values.caution === undefined ? config.knowledge.caution : Number(args.values.caution);
    if (!(caution >= 0 && caution <= 1)) throw new Error("--caution must be a number from 0 to 1");
    const open = async () => {
      kb = await createKnowledgeBase({
        dir,
        exclude,
        watch: false,
        embeddingModelPath: args.values["embedding-model"] ?? config.knowledge.embeddingModelPath,
        wordVectors: args.values["word-vectors"] ?? config.knowledge.wordVectors,
        logger: createLogger({ level: "silent" }),
        minScore: config.knowledge.minScore,
        caution,
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
        const folder = await new FolderLoader(dir, { exclude }).load(progressBar(io));
        if (!folder.exists) throw new Error(`knowledge folder not found: ${dir}`);
        for (const p of folder.problems) out(formatProblem(p));
        const errors = folder.problems.filter((p) => p.severity === "error").length;
        const warnings = folder.problems.length - errors;
        const files = folder.documents.length + folder.skipped.length;
        err(
          `${plural(files, "file")} checked, ${plural(folder.problems.length, "problem")} ` +
            `(${plural(errors, "error")}, ${plural(warnings, "warning")}), ${folder.skipped.length} skipped`,
        );
        return errors > 0 || (args.values.strict && warnings > 0) ? 1 : 0;
      }
      case "search": {
        const question = rest.join(" ").trim();
        if (!question) throw new Error('search needs a question: npm run kb -- search "how do I ..."');
        const budget = args.values.budget ? Number(args.values.budget) : config.knowledge.tokenBudget;
        if (!Number.isInteger(budget) || budget < 1) throw new Error("--budget must be a positive integer");
        return await printSearch(await open(), question, {
          budget,
          all: args.values.all ?? false,
          json: args.values.json ?? false,
          ...(args.values.lang ? { lang: args.values.lang } : {}),
          out,
        });
      }
      case "stats": {
        const s = (await open()).stats();
        if (args.values.json) {
          out(JSON.stringify(s));
          return 0;
        }
        out(`folder:    ${s.dir}`);
        out(`files:     ${s.files}`);
        out(`chunks:    ${s.chunks}`);
        out(`tokens:    ${s.tokens} (estimated)`);
        out(
          `languages: ${
            Object.entries(s.languages)
              .map(([lang, n]) => `${lang} ${n}`)
              .join(", ") || "none"
          }`,
        );
        out(`dense:     ${s.dense ? `on (${s.embedder})` : "off (lexical only)"}`);
        out(`skipped:   ${s.skipped.length}`);
        for (const p of s.skipped) out(`  ${formatProblem(p)}`);
        return 0;
      }
      case "eval":
        return await runKbEval(args, open, config, out);
      default:
        err(`kb: unknown command "${command}"\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    err(`kb: ${isCodedError(error) ? error.message : (error as Error).message}`);
    return 2;
  } finally {
    await (kb as KnowledgeBase | undefined)?.close();
  }
}

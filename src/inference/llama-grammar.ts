import type { GbnfJsonSchema, Llama, LlamaGrammar } from "node-llama-cpp";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { JsonSchema } from "./engine.ts";
import { patternToGbnf } from "./json-pattern.ts";

/**
 * JSON Schema grammars for the node-llama-cpp engine: node-llama-cpp's own converter
 * (`llama.createGrammarForJsonSchema`), with one addition. Its converter has no `pattern` for strings, and
 * the support actions' parameters (issue 16) use patterns, so each patterned string is first replaced by a
 * unique constant, and that constant's rule in the generated GBNF by one translated from the pattern
 * (json-pattern.ts). Grammars are cached per schema: parsing one costs milliseconds, a
 * schema repeats on every request of an action.
 */

const bad = (message: string) => new GatewayError(ErrorCode.BadRequest, `json schema: ${message}`);

const SENTINEL = "sgwpattern";

/** The schema with each patterned string replaced by a constant; the patterns by constant. */
function withSentinels(schema: unknown, patterns: Map<string, string>): unknown {
  if (Array.isArray(schema)) return schema.map((item) => withSentinels(item, patterns));
  if (schema === null || typeof schema !== "object") return schema;
  const object = schema as Record<string, unknown>;
  if (typeof object.pattern === "string") {
    const constant = `${SENTINEL}${patterns.size}x`;
    patterns.set(constant, object.pattern);
    return { const: constant, ...(object.description ? { description: object.description } : {}) };
  }
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, withSentinels(v, patterns)]));
}

/** Builds (and caches) node-llama-cpp grammars for JSON Schemas. */
export class LlamaGrammars {
  private readonly cache = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly llama: Llama) {}

  /** @throws GatewayError `bad_request` when the schema cannot become a grammar */
  get(schema: JsonSchema): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = this.cache.get(key);
    if (!grammar) {
      grammar = this.build(schema);
      // A failed build is not kept: the same schema fails again with the same error, cheaply.
      grammar.catch(() => this.cache.delete(key));
      this.cache.set(key, grammar);
    }
    return grammar;
  }

  private async build(schema: JsonSchema): Promise<LlamaGrammar> {
    const patterns = new Map<string, string>();
    const plain = withSentinels(schema, patterns) as GbnfJsonSchema;
    let json: LlamaGrammar;
    try {
      // Its parameter type is inferred from a literal schema; node-llama-cpp checks this one at run time.
      json = await this.llama.createGrammarForJsonSchema(plain as never);
    } catch (error) {
      throw bad((error as Error).message);
    }
    if (patterns.size === 0) return json;
    let gbnf = json.grammar;
    for (const [constant, pattern] of patterns) {
      const quoted = `"\\"${constant}\\""`;
      if (gbnf.split(quoted).length !== 2) throw bad(`cannot place the pattern ${JSON.stringify(pattern)}`);
      gbnf = gbnf.replace(quoted, `"\\"" ${patternToGbnf(pattern)} "\\""`);
    }
    try {
      return await this.llama.createGrammar({
        grammar: gbnf,
        stopGenerationTriggers: json.stopGenerationTriggers,
        trimWhitespaceSuffix: json.trimWhitespaceSuffix,
      });
    } catch (error) {
      throw bad(`the grammar for ${JSON.stringify(schema)} did not parse: ${(error as Error).message}`);
    }
  }
}

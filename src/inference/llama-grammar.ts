import type { GbnfJsonSchema, Llama, LlamaGrammar } from "node-llama-cpp";
import { ErrorCode, GatewayError } from "../errors.ts";
import type { JsonSchema } from "./engine.ts";

/**
 * JSON Schema grammars for the node-llama-cpp engine: node-llama-cpp's own converter
 * (`llama.createGrammarForJsonSchema`), with one addition. Its converter has no `pattern` for strings, and
 * the support actions' parameters (issue 16) use patterns, so each patterned string is first replaced by a
 * unique constant, and that constant's rule in the generated GBNF by one translated from the pattern (the
 * regular-expression subset below). Grammars are cached per schema: parsing one costs milliseconds, a
 * schema repeats on every request of an action.
 */

const bad = (message: string) => new GatewayError(ErrorCode.BadRequest, `json schema: ${message}`);

/** Characters a JSON string may hold unescaped: no quote, no backslash, no control character. */
const JSON_CHAR_EXCLUDED = '"\\\\\\x00-\\x1F\\x7F';

const hex = (c: string) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;

/** A character inside a GBNF class, escaped when it could mean something there. */
const classChar = (c: string) => (/[A-Za-z0-9 ]/.test(c) ? c : hex(c));

/** One literal character of the pattern as GBNF matching its JSON-escaped form inside a string. */
function literal(c: string): string {
  if (c === '"') return '"\\\\\\""';
  if (c === "\\") return '"\\\\\\\\"';
  if (c < " " || c === "\x7F") throw bad(`control character ${JSON.stringify(c)} in a pattern`);
  return `[${classChar(c)}]`;
}

const SHORTHANDS: Record<string, string> = {
  d: "[0-9]",
  w: "[a-zA-Z0-9_]",
  s: "[ ]",
  D: `[^0-9${JSON_CHAR_EXCLUDED}]`,
  W: `[^a-zA-Z0-9_${JSON_CHAR_EXCLUDED}]`,
  S: `[^ ${JSON_CHAR_EXCLUDED}]`,
};

/**
 * Translates an anchored regular expression (`^...$`) into a GBNF expression for a JSON string's content.
 * Supported: literals and escapes, `.`, classes `[a-z]` `[^...]`, `\d \w \s \D \W \S`, groups `(...)`
 * `(?:...)`, `|`, and the quantifiers `? * + {n} {n,} {n,m}`. Quotes, backslashes and control characters
 * never come out of a class or `.` (they would need escaping inside the JSON string).
 * @throws GatewayError `bad_request` for anything else
 */
export function patternToGbnf(pattern: string): string {
  if (!pattern.startsWith("^") || !pattern.endsWith("$") || pattern.endsWith("\\$"))
    throw bad(`pattern ${JSON.stringify(pattern)} must start with ^ and end with $`);
  const source = pattern.slice(1, -1);
  let i = 0;
  const peek = () => source[i];
  const alternation = (): string => {
    const options = [sequence()];
    while (peek() === "|") {
      i++;
      options.push(sequence());
    }
    return options.length === 1 ? (options[0] ?? "") : `(${options.join(" | ")})`;
  };
  const sequence = (): string => {
    const parts: string[] = [];
    while (i < source.length && peek() !== "|" && peek() !== ")") parts.push(quantified(atom()));
    return parts.length === 0 ? '""' : parts.join(" ");
  };
  const atom = (): string => {
    const c = source[i++] ?? "";
    if (c === "(") {
      if (source.startsWith("?:", i)) i += 2;
      else if (peek() === "?") throw bad("lookarounds and named groups are not supported in patterns");
      const inner = alternation();
      if (source[i++] !== ")") throw bad(`unbalanced parenthesis in ${JSON.stringify(pattern)}`);
      return `(${inner})`;
    }
    if (c === "[") return characterClass();
    if (c === ".") return `[^${JSON_CHAR_EXCLUDED}]`;
    if (c === "\\") {
      const e = source[i++] ?? "";
      const shorthand = SHORTHANDS[e];
      if (shorthand) return shorthand;
      if (/[A-Za-z0-9]/.test(e)) throw bad(`escape \\${e} is not supported in patterns`);
      return literal(e);
    }
    if ("*+?{}^$".includes(c)) throw bad(`unexpected ${JSON.stringify(c)} in ${JSON.stringify(pattern)}`);
    return literal(c);
  };
  const characterClass = (): string => {
    const negated = peek() === "^";
    if (negated) i++;
    let body = "";
    let first = true;
    while (i < source.length && (peek() !== "]" || first)) {
      first = false;
      let c = source[i++] ?? "";
      if (c === "\\") {
        const e = source[i++] ?? "";
        const shorthand = SHORTHANDS[e];
        if (shorthand && !shorthand.startsWith("[^")) {
          body += shorthand.slice(1, -1);
          continue;
        }
        if (/[A-Za-z0-9]/.test(e)) throw bad(`escape \\${e} is not supported in a pattern's class`);
        c = e;
      }
      // Quotes, backslashes and control characters are left out: a JSON string holds them only escaped.
      const plain = (x: string) => x !== '"' && x !== "\\" && x >= " " && x !== "\x7F";
      if (peek() === "-" && source[i + 1] !== "]" && i + 1 < source.length) {
        i++;
        const end = source[i++] ?? "";
        if (plain(c) && plain(end)) body += `${classChar(c)}-${classChar(end)}`;
      } else if (plain(c)) body += classChar(c);
    }
    if (source[i++] !== "]") throw bad(`unterminated class in ${JSON.stringify(pattern)}`);
    if (negated) return `[^${body}${JSON_CHAR_EXCLUDED}]`;
    if (body === "") throw bad(`class in ${JSON.stringify(pattern)} matches only characters JSON escapes`);
    return `[${body}]`;
  };
  const quantified = (expr: string): string => {
    const q = peek();
    if (q === "?" || q === "*" || q === "+") {
      i++;
      return `${expr}${q}`;
    }
    if (q === "{") {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (!match) throw bad(`bad quantifier in ${JSON.stringify(pattern)}`);
      i += match[0].length;
      return `${expr}${match[0]}`;
    }
    return expr;
  };
  const out = alternation();
  if (i < source.length) throw bad(`unbalanced parenthesis in ${JSON.stringify(pattern)}`);
  return out;
}

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

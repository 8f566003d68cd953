import { ErrorCode, GatewayError } from "../errors.ts";

/**
 * The regular-expression subset that JSON Schema `pattern`s may use with our engines: anchored (`^...$`),
 * with literals and escapes, `.`, classes `[a-z]` `[^...]`, `\d \w \s \D \W \S`, groups `(...)` `(?:...)`,
 * `|`, and the quantifiers `? * + {n} {n,} {n,m}`. Parsed once into a tree that becomes a GBNF rule for
 * node-llama-cpp (whose JSON Schema converter has no `pattern`) or a matching string for the FakeEngine.
 * Quotes, backslashes and control characters never come out of a class or `.`: inside a JSON string they
 * would need escaping.
 */

export type PatternNode =
  | { kind: "literal"; char: string }
  | { kind: "class"; ranges: [string, string][]; negated: boolean }
  | { kind: "sequence"; items: PatternNode[] }
  | { kind: "alternation"; options: PatternNode[] }
  | { kind: "group"; node: PatternNode }
  | { kind: "repeat"; node: PatternNode; min: number; max: number | undefined; text: string };

const bad = (message: string) => new GatewayError(ErrorCode.BadRequest, `json schema: ${message}`);

const plain = (c: string) => c !== '"' && c !== "\\" && c >= " " && c !== "\x7F";

const SHORTHANDS: Record<string, { ranges: [string, string][]; negated: boolean }> = {
  d: { ranges: [["0", "9"]], negated: false },
  w: {
    ranges: [
      ["a", "z"],
      ["A", "Z"],
      ["0", "9"],
      ["_", "_"],
    ],
    negated: false,
  },
  s: { ranges: [[" ", " "]], negated: false },
};
for (const [lower, upper] of [
  ["d", "D"],
  ["w", "W"],
  ["s", "S"],
] as const) {
  SHORTHANDS[upper] = { ranges: SHORTHANDS[lower]?.ranges ?? [], negated: true };
}

/**
 * Parses an anchored pattern.
 * @throws GatewayError `bad_request` for anything outside the subset
 */
export function parsePattern(pattern: string): PatternNode {
  if (!pattern.startsWith("^") || !pattern.endsWith("$") || pattern.endsWith("\\$"))
    throw bad(`pattern ${JSON.stringify(pattern)} must start with ^ and end with $`);
  const source = pattern.slice(1, -1);
  const quoted = JSON.stringify(pattern);
  let i = 0;
  const peek = () => source[i];
  const alternation = (): PatternNode => {
    const options = [sequence()];
    while (peek() === "|") {
      i++;
      options.push(sequence());
    }
    return options.length === 1 ? (options[0] as PatternNode) : { kind: "alternation", options };
  };
  const sequence = (): PatternNode => {
    const items: PatternNode[] = [];
    while (i < source.length && peek() !== "|" && peek() !== ")") items.push(quantified(atom()));
    return { kind: "sequence", items };
  };
  const atom = (): PatternNode => {
    const c = source[i++] ?? "";
    if (c === "(") {
      if (source.startsWith("?:", i)) i += 2;
      else if (peek() === "?") throw bad("lookarounds and named groups are not supported in patterns");
      const node = alternation();
      if (source[i++] !== ")") throw bad(`unbalanced parenthesis in ${quoted}`);
      return { kind: "group", node };
    }
    if (c === "[") return characterClass();
    if (c === ".") return { kind: "class", ranges: [], negated: true };
    if (c === "\\") {
      const e = source[i++] ?? "";
      const shorthand = SHORTHANDS[e];
      if (shorthand) return { kind: "class", ranges: shorthand.ranges, negated: shorthand.negated };
      if (/[A-Za-z0-9]/.test(e)) throw bad(`escape \\${e} is not supported in patterns`);
      return literal(e);
    }
    if ("*+?{}^$".includes(c)) throw bad(`unexpected ${JSON.stringify(c)} in ${quoted}`);
    return literal(c);
  };
  const literal = (char: string): PatternNode => {
    if (char < " " || char === "\x7F") throw bad(`control character ${JSON.stringify(char)} in a pattern`);
    return { kind: "literal", char };
  };
  const characterClass = (): PatternNode => {
    const negated = peek() === "^";
    if (negated) i++;
    const ranges: [string, string][] = [];
    let first = true;
    while (i < source.length && (peek() !== "]" || first)) {
      first = false;
      let c = source[i++] ?? "";
      if (c === "\\") {
        const e = source[i++] ?? "";
        const shorthand = SHORTHANDS[e];
        if (shorthand && !shorthand.negated) {
          ranges.push(...shorthand.ranges);
          continue;
        }
        if (/[A-Za-z0-9]/.test(e)) throw bad(`escape \\${e} is not supported in a pattern's class`);
        c = e;
      }
      let end = c;
      if (peek() === "-" && i + 1 < source.length && source[i + 1] !== "]") {
        i++;
        end = source[i++] ?? "";
      }
      // Quotes, backslashes and control characters are left out: a JSON string holds them only escaped.
      if (plain(c) && plain(end)) ranges.push([c, end]);
    }
    if (source[i++] !== "]") throw bad(`unterminated class in ${quoted}`);
    if (!negated && ranges.length === 0)
      throw bad(`a class in ${quoted} matches only characters JSON escapes`);
    return { kind: "class", ranges, negated };
  };
  const quantified = (node: PatternNode): PatternNode => {
    const q = peek();
    if (q === "?" || q === "*" || q === "+") {
      i++;
      return { kind: "repeat", node, min: q === "+" ? 1 : 0, max: q === "?" ? 1 : undefined, text: q };
    }
    if (q === "{") {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (!match) throw bad(`bad quantifier in ${quoted}`);
      i += match[0].length;
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : match[3] ? Number(match[3]) : undefined;
      return { kind: "repeat", node, min, max, text: match[0] };
    }
    return node;
  };
  const tree = alternation();
  if (i < source.length) throw bad(`unbalanced parenthesis in ${quoted}`);
  return tree;
}

const JSON_CHAR_EXCLUDED = '"\\\\\\x00-\\x1F\\x7F';

/** A character inside a GBNF class, escaped when it could mean something there. */
function classChar(c: string): string {
  if (/[A-Za-z0-9 ]/.test(c)) return c;
  const code = c.codePointAt(0) ?? 0;
  return code > 0xffff
    ? `\\U${code.toString(16).padStart(8, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** GBNF for a JSON string's content matching the pattern (without the surrounding quotes). */
export function patternToGbnf(pattern: string): string {
  const render = (node: PatternNode): string => {
    switch (node.kind) {
      case "literal":
        if (node.char === '"') return '"\\\\\\""';
        if (node.char === "\\") return '"\\\\\\\\"';
        return `[${classChar(node.char)}]`;
      case "class": {
        const body = node.ranges.map(([a, b]) =>
          a === b ? classChar(a) : `${classChar(a)}-${classChar(b)}`,
        );
        return node.negated ? `[^${body.join("")}${JSON_CHAR_EXCLUDED}]` : `[${body.join("")}]`;
      }
      case "sequence":
        return node.items.length === 0 ? '""' : node.items.map(render).join(" ");
      case "alternation":
        return `(${node.options.map(render).join(" | ")})`;
      case "group":
        return `(${render(node.node)})`;
      case "repeat":
        return `${render(node.node)}${node.text}`;
    }
  };
  return render(parsePattern(pattern));
}

/** A string the pattern matches, chosen with `random` (0 <= x < 1): the FakeEngine's patterned values. */
export function samplePattern(pattern: string, random: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const sample = (node: PatternNode): string => {
    switch (node.kind) {
      case "literal":
        return node.char;
      case "class": {
        if (!node.negated) {
          const [a, b] = pick(node.ranges);
          const lo = a.codePointAt(0) ?? 32;
          const hi = b.codePointAt(0) ?? lo;
          return String.fromCodePoint(lo + Math.floor(random() * (hi - lo + 1)));
        }
        const inRanges = (c: string) => node.ranges.some(([a, b]) => c >= a && c <= b);
        return pick([..."abcdefghijklmnopqrstuvwxyz0123456789 -_.".split("")].filter((c) => !inRanges(c)));
      }
      case "sequence":
        return node.items.map(sample).join("");
      case "alternation":
        return sample(pick(node.options));
      case "group":
        return sample(node.node);
      case "repeat": {
        const count = node.min + Math.floor(random() * ((node.max ?? node.min + 3) - node.min + 1));
        return Array.from({ length: count }, () => sample(node.node)).join("");
      }
    }
  };
  return sample(parsePattern(pattern));
}

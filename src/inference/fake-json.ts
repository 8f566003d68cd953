import { ErrorCode, GatewayError } from "../errors.ts";
import type { JsonSchema } from "./engine.ts";
import { samplePattern } from "./json-pattern.ts";

const bad = (message: string) => new GatewayError(ErrorCode.BadRequest, `json schema: ${message}`);

const WORDS = ["alpha", "bravo", "delta", "echo", "golf", "hotel", "india", "kilo", "lima", "oscar"];

/**
 * A value that fits the schema, chosen with `random` (0 <= x < 1): what the FakeEngine "generates" under a
 * grammar. Covers the subset the real engines' converters share (type, properties, required, enum,
 * const, oneOf/anyOf, items, minItems/maxItems, minLength/maxLength, minimum/maximum, pattern).
 * @throws GatewayError `bad_request` for a schema outside it
 */
export function sampleJson(schema: JsonSchema, random: () => number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const num = (key: string, fallback: number) =>
    typeof schema[key] === "number" ? (schema[key] as number) : fallback;
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) {
    if (schema.enum.length === 0) throw bad("an empty enum");
    return pick(schema.enum);
  }
  const choices = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(choices) && choices.length > 0) return sampleJson(pick(choices) as JsonSchema, random);
  const type = Array.isArray(schema.type) ? pick(schema.type as unknown[]) : schema.type;
  switch (type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      // Every property, required or not: a value with all of them fits either way.
      return Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, sampleJson(v, random)]));
    }
    case "array": {
      const items = (schema.items ?? { type: "string" }) as JsonSchema;
      const min = num("minItems", 0);
      return Array.from({ length: between(min, Math.max(min, num("maxItems", min + 2))) }, () =>
        sampleJson(items, random),
      );
    }
    case "string": {
      if (typeof schema.pattern === "string") return samplePattern(schema.pattern, random);
      const min = num("minLength", 0);
      const max = num("maxLength", Math.max(min, 12));
      let text = pick(WORDS);
      while (text.length < min) text += pick(WORDS);
      return text.slice(0, Math.max(min, Math.min(max, text.length)));
    }
    case "integer":
      return between(Math.ceil(num("minimum", 0)), Math.floor(num("maximum", 100)));
    case "number":
      return (
        Math.round((num("minimum", 0) + random() * (num("maximum", 100) - num("minimum", 0))) * 100) / 100
      );
    case "boolean":
      return random() < 0.5;
    case "null":
      return null;
    default:
      throw bad(`unsupported type ${JSON.stringify(type)}`);
  }
}

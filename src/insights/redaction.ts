/**
 * Removes personal data from questions before they are stored for curators. Order matters: e-mail
 * addresses first (their digits must not be read as phone numbers), then card-like numbers (13-19
 * digits with optional spaces or dashes), then phone numbers (7+ digits with separators, optional +).
 */
const BUILT_IN: [RegExp, string][] = [
  [/[\p{L}\p{N}._%+-]+@[\p{L}\p{N}.-]+\.[\p{L}]{2,}/gu, "[email]"],
  [/\b(?:\d[ -]?){12,18}\d\b/g, "[card]"],
  [/(?<![\w(])(?:\+|\()?\d[\d\s().-]{5,}\d(?![\w])/g, "[phone]"],
];

export class Redactor {
  readonly #patterns: [RegExp, string][];

  /** @param extra further regular-expression sources (REDACT_PATTERNS), replaced by "[redacted]". */
  constructor(extra: string[] = []) {
    this.#patterns = [
      ...BUILT_IN,
      ...extra.map((source): [RegExp, string] => [new RegExp(source, "gu"), "[redacted]"]),
    ];
  }

  redact(text: string): string {
    let out = text;
    for (const [pattern, replacement] of this.#patterns) out = out.replace(pattern, replacement);
    return out;
  }
}

/**
 * The terms of one index: ids, how many live chunks hold each (document frequency), and the typo
 * look-up (terms one edit away), bucketed by length so that a look-up scans only neighbours.
 */
/** The dictionary as plain data, for persisting. */
export interface DictionarySnapshot {
  terms: string[];
  df: Int32Array;
}

export class TermDictionary {
  readonly #ids = new Map<string, number>();
  #terms: string[] = [];
  #df: number[] = [];
  readonly #byLength = new Map<number, number[]>();

  snapshot(): DictionarySnapshot {
    return { terms: [...this.#terms], df: Int32Array.from(this.#df) };
  }

  /** Replaces the contents with a snapshot (ids keep their numbers). */
  restore({ terms, df }: DictionarySnapshot): void {
    this.#ids.clear();
    this.#byLength.clear();
    this.#terms = terms;
    this.#df = Array.from(df);
    terms.forEach((term, id) => {
      this.#ids.set(term, id);
      const bucket = this.#byLength.get(term.length);
      if (bucket) bucket.push(id);
      else this.#byLength.set(term.length, [id]);
    });
  }

  /** The id of a term, created on first sight. */
  intern(term: string): number {
    let id = this.#ids.get(term);
    if (id === undefined) {
      id = this.#terms.length;
      this.#ids.set(term, id);
      this.#terms.push(term);
      this.#df.push(0);
      const bucket = this.#byLength.get(term.length);
      if (bucket) bucket.push(id);
      else this.#byLength.set(term.length, [id]);
    }
    return id;
  }

  id(term: string): number | undefined {
    return this.#ids.get(term);
  }

  /** Live chunks holding the term (0 for unknown terms and for terms only deleted chunks held). */
  df(term: string | number): number {
    const id = typeof term === "number" ? term : this.#ids.get(term);
    return id === undefined ? 0 : (this.#df[id] ?? 0);
  }

  retain(id: number): void {
    this.#df[id] = (this.#df[id] ?? 0) + 1;
  }

  release(id: number): void {
    this.#df[id] = Math.max(0, (this.#df[id] ?? 0) - 1);
  }

  /**
   * Known terms one edit (insertion, deletion, substitution or swap of neighbours) away from a term
   * of 5+ characters, most frequent first, at most `limit`: the words a typo was probably meant as.
   */
  oneEditAway(term: string, limit = 3): number[] {
    if (term.length < 5) return [];
    const found: number[] = [];
    for (let len = term.length - 1; len <= term.length + 1; len++) {
      for (const id of this.#byLength.get(len) ?? []) {
        if ((this.#df[id] ?? 0) > 0 && withinOneEdit(term, this.#terms[id] as string)) found.push(id);
      }
    }
    return found.sort((a, b) => (this.#df[b] ?? 0) - (this.#df[a] ?? 0)).slice(0, limit);
  }
}

/** True when a[i..] equals b[j..] (no allocation: this runs for thousands of terms per typo). */
function sameTail(a: string, i: number, b: string, j: number): boolean {
  if (a.length - i !== b.length - j) return false;
  for (; i < a.length; i++, j++) if (a.charCodeAt(i) !== b.charCodeAt(j)) return false;
  return true;
}

/** True when b is a, or a with one character inserted, deleted, replaced or two neighbours swapped. */
export function withinOneEdit(a: string, b: string): boolean {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === la && i === lb) return true;
  if (la === lb) {
    // One replacement (rest equal), or a swap of i and i+1 (then the rest equal).
    if (sameTail(a, i + 1, b, i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && sameTail(a, i + 2, b, i + 2);
  }
  // One insertion: skip the extra character of the longer word.
  return la > lb ? sameTail(a, i + 1, b, i) : sameTail(a, i, b, i + 1);
}

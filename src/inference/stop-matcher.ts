/**
 * Cuts streamed text before the first stop string. Text that could still turn out to begin a stop string
 * is held back until the next piece decides, so that what is passed on never has to be taken back: the
 * pieces passed on concatenate to the final text.
 */
export class StopMatcher {
  private held = "";
  /** The stop string that ended the text, once one has. */
  matched: string | undefined;

  constructor(private readonly stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** Takes the next piece; returns the text that may be passed on now (nothing once a stop string came). */
  push(piece: string): string {
    if (this.matched !== undefined) return "";
    if (this.stops.length === 0) return piece;
    this.held += piece;
    let first = -1;
    for (const stop of this.stops) {
      const at = this.held.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
        this.matched = stop;
      }
    }
    if (first >= 0) {
      const out = this.held.slice(0, first);
      this.held = "";
      return out;
    }
    const keep = this.longestPartialStop();
    const out = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return out;
  }

  /** At the end of generation: the held text, which no stop string followed. */
  flush(): string {
    const out = this.matched === undefined ? this.held : "";
    this.held = "";
    return out;
  }

  /** Length of the longest end of the held text that is the beginning of a stop string. */
  private longestPartialStop(): number {
    let keep = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, this.held.length); k > keep; k--) {
        if (this.held.endsWith(stop.slice(0, k))) {
          keep = k;
          break;
        }
      }
    }
    return keep;
  }
}

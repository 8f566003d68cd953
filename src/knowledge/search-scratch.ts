/**
 * The per-search accumulators of a LexicalIndex, by chunk slot: score, which query terms matched
 * (a bit each), how many did, and the share of the question covered. Typed arrays reused from one
 * search to the next, reset through the list of slots a search touched: a search over 10,000 chunks
 * allocates nothing per posting and leaves no garbage.
 */
export class SearchScratch {
  scores = new Float64Array(0);
  masks = new Uint32Array(0);
  counts = new Uint16Array(0);
  covered = new Float64Array(0);
  touched = new Int32Array(0);
  touchedCount = 0;

  /** Makes room for `slots` chunks and starts a search. */
  begin(slots: number): void {
    if (this.scores.length < slots) {
      const size = Math.max(slots, this.scores.length * 2, 64);
      this.scores = new Float64Array(size);
      this.masks = new Uint32Array(size);
      this.counts = new Uint16Array(size);
      this.covered = new Float64Array(size);
      this.touched = new Int32Array(size);
    }
    this.touchedCount = 0;
  }

  /**
   * The `limit` best touched slots by score times the number of distinct query terms matched
   * (MiniSearch's "quality": chunks holding more of the question come first), best first, picked
   * without sorting every match; then every touched slot is reset for the next search.
   */
  finish(limit: number): { slot: number; score: number; mask: number; covered: number }[] {
    const best: [number, number][] = [];
    let floor = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < this.touchedCount; i++) {
      const slot = this.touched[i] as number;
      const score = (this.scores[slot] as number) * (this.counts[slot] as number);
      if (best.length >= limit && score <= floor) continue;
      best.push([slot, score]);
      if (best.length > limit * 2) {
        best.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
        best.length = limit;
        floor = best[limit - 1]?.[1] ?? floor;
      }
    }
    best.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    const out = best.slice(0, limit).map(([slot, score]) => ({
      slot,
      score,
      mask: this.masks[slot] as number,
      covered: this.covered[slot] as number,
    }));
    for (let i = 0; i < this.touchedCount; i++) {
      const slot = this.touched[i] as number;
      this.scores[slot] = 0;
      this.masks[slot] = 0;
      this.counts[slot] = 0;
      this.covered[slot] = 0;
    }
    this.touchedCount = 0;
    return out;
  }
}

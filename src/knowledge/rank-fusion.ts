/**
 * Reciprocal-rank fusion (Cormack et al., 2009): each list adds 1 / (k + rank) for every item it
 * ranks, so lists with incomparable scores (BM25, cosine) combine without calibration.
 * @returns item -> fused score, for every item in any list.
 */
export function reciprocalRankFusion<T>(lists: readonly (readonly T[])[], k = 60): Map<T, number> {
  const fused = new Map<T, number>();
  for (const list of lists) {
    list.forEach((item, rank) => {
      fused.set(item, (fused.get(item) ?? 0) + 1 / (k + rank + 1));
    });
  }
  return fused;
}

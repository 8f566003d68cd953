/**
 * Reciprocal-rank fusion (Cormack et al., 2009): each list adds 1 / (k + rank) for every item it
 * ranks, so lists with incomparable scores (BM25, cosine) combine without calibration.
 * @param weights per list (default 1 each): a weaker signal can count for less.
 * @returns item -> fused score, for every item in any list.
 */
export function reciprocalRankFusion<T>(
  lists: readonly (readonly T[])[],
  k = 60,
  weights: readonly number[] = [],
): Map<T, number> {
  const fused = new Map<T, number>();
  lists.forEach((list, i) => {
    const weight = weights[i] ?? 1;
    list.forEach((item, rank) => {
      fused.set(item, (fused.get(item) ?? 0) + weight / (k + rank + 1));
    });
  });
  return fused;
}

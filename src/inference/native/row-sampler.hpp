// row-sampler: draws one token from a row of logits, softmax(logits / temperature) or the argmax at
// temperature 0, in three flat passes over the vocabulary (max, exp and block sums, one block scan).
//
// Why not llama.cpp's sampler chain: it copies every row into a llama_token_data array (12 bytes per
// token) and exponentiates it with scalar expf, ~0.35-0.55 ms per 32,000-token row on the benchmark
// machine; at 32 sequences that was 2.8 ms of CPU per decode step, most of a step. These passes are
// written so that the compiler vectorizes them (no branches, no library calls in the loops; the
// reductions carry `omp simd` so that they may be reordered without -ffast-math).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace rowsample {

// e^x for x <= 0: 2^(x log2 e) split into an integer power and a fraction in [-0.5, 0.5], the fraction
// by Cephes' exp2f polynomial (relative error ~2e-7). Inputs below -87 give e^-87 (~1.6e-38), which is
// zero for sampling purposes.
inline float exp_nonpos(float x) {
    x = x < -87.0f ? -87.0f : x;
    const float t = x * 1.44269504088896341f;
    // Round to nearest through the float mantissa (exact for |t| < 2^22); no -ffast-math, or the
    // compiler would fold it away.
    const float r = (t + 12582912.0f) - 12582912.0f;
    const float f = t - r;
    float p = 1.535336188319500e-4f;
    p = p * f + 1.339887440266574e-3f;
    p = p * f + 9.618437357674640e-3f;
    p = p * f + 5.550332471162809e-2f;
    p = p * f + 2.402264791363012e-1f;
    p = p * f + 6.931472028550421e-1f;
    p = p * f + 1.0f;
    const int32_t bits = (static_cast<int32_t>(r) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

constexpr int kBlock = 256;

// Per-sequence scratch space, reused every step so that sampling allocates nothing.
struct Scratch {
    std::vector<float> weights;
    std::vector<double> block_sums;
};

inline float row_max(const float * l, int n) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int i = 0; i < n; i++) mx = l[i] > mx ? l[i] : mx;
    return mx;
}

// The first index holding the row's maximum (greedy decoding).
inline int32_t argmax(const float * l, int n) {
    const float mx = row_max(l, n);
    for (int i = 0; i < n; i++)
        if (l[i] == mx) return i;
    return 0;
}

// A draw from softmax(l / temperature), temperature > 0, with u uniform in [0, 1).
inline int32_t draw(const float * l, int n, float temperature, double u, Scratch & s) {
    const float mx = row_max(l, n);
    const float inv_t = 1.0f / temperature;
    s.weights.resize(n);
    const int n_blocks = (n + kBlock - 1) / kBlock;
    s.block_sums.assign(n_blocks, 0.0);
    float * w = s.weights.data();
    double total = 0;
    for (int b = 0; b < n_blocks; b++) {
        const int lo = b * kBlock, hi = lo + kBlock < n ? lo + kBlock : n;
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int i = lo; i < hi; i++) {
            w[i] = exp_nonpos((l[i] - mx) * inv_t);
            sum += w[i];
        }
        s.block_sums[b] = sum;
        total += sum;
    }
    double target = u * total;
    int b = 0;
    while (b + 1 < n_blocks && target >= s.block_sums[b]) target -= s.block_sums[b++];
    const int lo = b * kBlock, hi = lo + kBlock < n ? lo + kBlock : n;
    double run = 0;
    for (int i = lo; i < hi; i++) {
        run += w[i];
        if (run > target) return i;
    }
    // Rounding left the target at the block's very end: its last token with any weight.
    for (int i = hi - 1; i > lo; i--)
        if (w[i] > 0) return i;
    return lo;
}

// One sequence's sampling state: its temperature and random stream (seeded per request, so a seed gives
// the same answer again on the same model and build).
struct RowSampler {
    float temperature = 0.0f;
    std::mt19937_64 rng;
    Scratch scratch;

    void reset(float temp, uint64_t seed) {
        temperature = temp;
        rng.seed(seed);
    }

    int32_t sample(const float * logits, int n_vocab) {
        if (temperature <= 0.0f) return argmax(logits, n_vocab);
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        return draw(logits, n_vocab, temperature, uniform(rng), scratch);
    }
};

}  // namespace rowsample

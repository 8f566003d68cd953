// row-sampler-check: draws from row-sampler.hpp and prints what the test compares with the softmax.
//
//   row-sampler-check   -> {"exp_max_rel_err":..,"temperature":0.7,"logits":[..],"freq":[..],"draws":N,
//                           "greedy":i,"argmax":j,"n_vocab_draw":k,"same_seed_same_draws":true}
// test/integration/inference/row-sampler.test.ts builds and runs it.
#include "row-sampler.hpp"

#include <cstdio>
#include <vector>

int main() {
    double worst = 0;
    for (float x = -80.0f; x <= 0.0f; x += 0.001f) {
        const double e = std::exp(static_cast<double>(x));
        const double r = std::fabs(rowsample::exp_nonpos(x) - e) / e;
        if (r > worst) worst = r;
    }
    // Five tokens over more than one block, so that the block scan is exercised too.
    const int n = 3 * rowsample::kBlock + 17;
    std::vector<float> row(n, -1e30f);
    const int ids[5] = {3, 300, 301, 600, n - 1};
    const float logits[5] = {0.0f, 1.0f, 2.0f, 0.5f, 1.5f};
    for (int i = 0; i < 5; i++) row[ids[i]] = logits[i];
    rowsample::RowSampler s;
    s.reset(0.7f, 42);
    const int draws = 400000;
    std::vector<long> hits(5, 0);
    long stray = 0;
    for (int d = 0; d < draws; d++) {
        const int t = s.sample(row.data(), n);
        int k = 0;
        while (k < 5 && ids[k] != t) k++;
        if (k < 5) hits[k]++; else stray++;
    }
    // Same seed, same draws.
    rowsample::RowSampler a, b;
    a.reset(0.7f, 7);
    b.reset(0.7f, 7);
    bool same = true;
    for (int d = 0; d < 1000; d++) same = same && a.sample(row.data(), n) == b.sample(row.data(), n);
    rowsample::RowSampler g;
    g.reset(0.0f, 1);
    printf("{\"exp_max_rel_err\":%.3g,\"temperature\":0.7,\"logits\":[%g,%g,%g,%g,%g],\"freq\":[%.5f,%.5f,%.5f,%.5f,%.5f],"
           "\"stray\":%ld,\"greedy\":%d,\"argmax\":%d,\"same_seed_same_draws\":%s}\n",
           worst, logits[0], logits[1], logits[2], logits[3], logits[4], hits[0] / double(draws), hits[1] / double(draws),
           hits[2] / double(draws), hits[3] / double(draws), hits[4] / double(draws), stray, g.sample(row.data(), n), ids[2],
           same ? "true" : "false");
    return 0;
}

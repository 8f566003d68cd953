// constrain: what narrows an answer beyond plain sampling: stop strings, and llama.cpp's sampler chain for
// the rows that need it (a JSON Schema grammar, top-p), apart from the decoding loop in batch-engine.cpp.
#pragma once

#include "json-schema-to-grammar.h"  // llama.cpp's common/: JSON Schema to GBNF
#include "llama.h"
#include "protocol.hpp"

#include <algorithm>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

namespace constrain {

// Passes `piece` through the stop strings: appends what may be sent now to `send`; true once a stop string
// has come (the text from it on is dropped). Text that may begin a stop string is held in `held` until the
// next piece decides, so that nothing sent has to be taken back.
inline bool filter_stop(const std::vector<std::string> & stops, std::string & held, const std::string & piece,
                        std::string & send) {
    if (stops.empty()) { send += piece; return false; }
    held += piece;
    size_t first = std::string::npos;
    for (const auto & stop : stops) first = std::min(first, held.find(stop));
    if (first != std::string::npos) { send.append(held, 0, first); held.clear(); return true; }
    size_t keep = 0;
    for (const auto & stop : stops)
        for (size_t k = std::min(stop.size() - 1, held.size()); k > keep; k--)
            if (held.compare(held.size() - k, k, stop, 0, k) == 0) { keep = k; break; }
    send.append(held, 0, held.size() - keep);
    held.erase(0, held.size() - keep);
    return false;
}

// Builds llama.cpp sampler chains for requests the fused row sampler cannot serve.
struct Chains {
    const llama_vocab * vocab = nullptr;
    // GBNF per JSON Schema: converting is cheap, but a schema repeats on every request of an action.
    std::unordered_map<std::string, std::string> grammars;

    // The chain for a request that needs one (null when it needs none); false with `why` for a bad schema.
    bool make(const protocol::Request & r, llama_sampler *& chain, std::string & why) {
        chain = nullptr;
        if (r.json_schema.empty() && r.top_p >= 1.0f) return true;
        llama_sampler * grammar = nullptr;
        if (!r.json_schema.empty()) {
            auto it = grammars.find(r.json_schema);
            if (it == grammars.end()) {
                try {
                    it = grammars.emplace(r.json_schema, json_schema_to_grammar(common_json::parse(r.json_schema))).first;
                } catch (const std::exception & e) {
                    why = std::string("json_schema: ") + e.what();
                    return false;
                }
            }
            grammar = llama_sampler_init_grammar(vocab, it->second.c_str(), "root");
            if (!grammar) { why = "json_schema: its grammar did not parse"; return false; }
        }
        chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
        if (grammar) llama_sampler_chain_add(chain, grammar);
        if (r.temperature <= 0.0f) {
            llama_sampler_chain_add(chain, llama_sampler_init_greedy());
        } else {
            if (r.top_p < 1.0f) llama_sampler_chain_add(chain, llama_sampler_init_top_p(r.top_p, 1));
            llama_sampler_chain_add(chain, llama_sampler_init_temp(r.temperature));
            llama_sampler_chain_add(chain, llama_sampler_init_dist(static_cast<uint32_t>(r.seed)));
        }
        return true;
    }
};

// One draw through a chain (the grammar masks, then top-p, temperature and the seeded draw), accepted
// into the chain's state; `candidates` is the row's reusable scratch space.
inline llama_token sample(llama_sampler * chain, const float * logits, int n_vocab,
                          std::vector<llama_token_data> & candidates) {
    candidates.resize(n_vocab);
    for (llama_token t = 0; t < n_vocab; t++) candidates[t] = {t, logits[t], 0.0f};
    llama_token_data_array cur = {candidates.data(), static_cast<size_t>(n_vocab), -1, false};
    llama_sampler_apply(chain, &cur);
    const llama_token t = cur.data[cur.selected].id;
    llama_sampler_accept(chain, t);
    return t;
}

}  // namespace constrain

// protocol: batch-engine's command line and its JSON-lines protocol (requests in; pieces, ends and errors
// out), apart from the decoding loop in batch-engine.cpp.
#pragma once

#include "json-lite.hpp"
#include "llama.h"

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace protocol {

struct Options {
    std::string model;
    int sequences = 4, ctx_per_seq = 2048, ngl = 99, threads = 4, batch = 512;
    bool kv_unified = false;
    bool prefix_cache = true;
};

struct Request {
    std::string id;
    std::vector<std::pair<std::string, std::string>> messages;
    int max_tokens = 256;
    float temperature = 0.0f;
    uint64_t seed = 0;
    bool ignore_eos = false;
};

inline std::string out;  // one write per step

inline void emit_error(const std::string & id, const std::string & msg) {
    out += "{\"id\":" + json::quote(id) + ",\"error\":" + json::quote(msg) + "}\n";
}

inline void flush_out() {
    if (out.empty()) return;
    fwrite(out.data(), 1, out.size(), stdout);
    fflush(stdout);
    out.clear();
}

// Moves the complete UTF-8 characters of `pending` to the returned string; invalid bytes become U+FFFD,
// so every line is valid JSON text even when a byte-level vocabulary splits a character over tokens.
inline std::string take_utf8(std::string & pending, bool final) {
    std::string done;
    size_t i = 0;
    const size_t n = pending.size();
    while (i < n) {
        const unsigned char c = pending[i];
        const int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (len == 0) { done += "\xEF\xBF\xBD"; i++; continue; }
        int have = 1;
        while (have < len && i + have < n && (static_cast<unsigned char>(pending[i + have]) & 0xC0) == 0x80) have++;
        if (have == len) { done.append(pending, i, len); i += len; continue; }
        if (i + have == n && !final) break;  // may complete with the next token
        done += "\xEF\xBF\xBD";
        i += have;
    }
    pending.erase(0, i);
    return done;
}

inline bool parse_request(const json::Value & v, Request & r, std::string & why) {
    r.id = v.str("id");
    const json::Value * msgs = v.get("messages");
    if (!msgs || msgs->type != json::Value::Array || msgs->items.empty()) { why = "messages must be a non-empty array"; return false; }
    for (const auto & m : msgs->items) {
        if (m.type != json::Value::Object) { why = "each message must be an object"; return false; }
        r.messages.emplace_back(m.str("role"), m.str("content"));
    }
    r.max_tokens = static_cast<int>(v.num("max_tokens", 256));
    r.temperature = static_cast<float>(v.num("temperature", 0));
    // Without a seed, a random one.
    r.seed = v.get("seed") ? static_cast<uint64_t>(v.num("seed", 0)) : std::random_device{}();
    r.ignore_eos = v.boolean("ignore_eos", false);
    if (r.max_tokens < 1) { why = "max_tokens must be at least 1"; return false; }
    return true;
}

inline bool parse_args(int argc, char ** argv, Options & o) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--model") o.model = v;
        else if (k == "--sequences") o.sequences = std::stoi(v);
        else if (k == "--ctx-per-seq") o.ctx_per_seq = std::stoi(v);
        else if (k == "--ngl") o.ngl = std::stoi(v);
        else if (k == "--threads") o.threads = std::stoi(v);
        else if (k == "--batch") o.batch = std::stoi(v);
        else if (k == "--kv-unified") o.kv_unified = v != "0";
        else if (k == "--prefix-cache") o.prefix_cache = v != "0";
        else return false;
    }
    return !o.model.empty() && o.sequences > 0 && o.ctx_per_seq > 0;
}

}  // namespace protocol

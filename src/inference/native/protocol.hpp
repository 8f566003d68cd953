// protocol: batch-engine's command line and its JSON-lines protocol (requests in; pieces, ends and errors
// out), apart from the decoding loop in batch-engine.cpp.
#pragma once

#include "llama.h"
#include <nlohmann/json.hpp>  // vendored by the llama.cpp source tree (vendor/nlohmann)

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace protocol {

using json = nlohmann::json;

// The JSON string literal of a text; bytes that are not UTF-8 become U+FFFD rather than an exception.
inline std::string quote(const std::string & s) {
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

struct Options {
    std::string model;
    int sequences = 4, ctx_per_seq = 2048, ngl = 99, threads = 4, batch = 512;
    bool kv_unified = false;
    bool prefix_cache = true;
};

// What the ready line says, so that a caller can tell a binary built from older sources.
constexpr int kProtocolVersion = 2;

struct Request {
    std::string id;
    std::vector<std::pair<std::string, std::string>> messages;  // rendered with the chat template, or
    std::string raw_prompt;                                     // text continued as it is (no template)
    bool raw = false;
    int max_tokens = 256;
    float temperature = 0.0f;
    float top_p = 1.0f;
    uint64_t seed = 0;
    bool ignore_eos = false;
    std::vector<std::string> stop;  // the answer ends before the first of these
    std::string json_schema;        // a JSON Schema (serialized); empty: no grammar
};

inline std::string out;  // one write per step

// An error line; `code` tells a refusal of the request (context_overflow, bad_request) from a failure.
inline void emit_error(const std::string & id, const std::string & msg, const char * code = "inference_failed") {
    out += "{\"id\":" + quote(id) + ",\"error\":" + quote(msg) + ",\"code\":\"" + code + "\"}\n";
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

// A field of a request line, or the fallback when it is absent; false (with `why`) when it has the wrong type.
template <typename T>
inline bool field(const json & v, const char * key, T & out, std::string & why) {
    const auto it = v.find(key);
    if (it == v.end() || it->is_null()) return true;
    bool ok;
    if constexpr (std::is_same_v<T, bool>) ok = it->is_boolean();
    else if constexpr (std::is_arithmetic_v<T>) ok = it->is_number();
    else ok = it->is_string();
    if (!ok) { why = std::string(key) + " has the wrong type"; return false; }
    out = it->get<T>();
    return true;
}

inline bool parse_request(const json & v, Request & r, std::string & why) {
    if (const auto id = v.find("id"); id != v.end()) r.id = id->is_string() ? id->get<std::string>() : id->dump();
    const auto msgs = v.find("messages");
    const auto raw = v.find("prompt");
    if (raw != v.end()) {
        if (!raw->is_string() || msgs != v.end()) { why = "prompt must be a string, and comes without messages"; return false; }
        r.raw = true;
        r.raw_prompt = raw->get<std::string>();
    } else {
        if (msgs == v.end() || !msgs->is_array() || msgs->empty()) { why = "messages must be a non-empty array"; return false; }
        for (const auto & m : *msgs) {
            if (!m.is_object()) { why = "each message must be an object"; return false; }
            std::string role, content;
            if (!field(m, "role", role, why) || !field(m, "content", content, why)) return false;
            r.messages.emplace_back(std::move(role), std::move(content));
        }
    }
    if (const auto stop = v.find("stop"); stop != v.end() && !stop->is_null()) {
        if (!stop->is_array()) { why = "stop must be an array of strings"; return false; }
        for (const auto & s : *stop) {
            if (!s.is_string()) { why = "stop must be an array of strings"; return false; }
            if (!s.get<std::string>().empty()) r.stop.push_back(s.get<std::string>());
        }
    }
    if (const auto schema = v.find("json_schema"); schema != v.end() && !schema->is_null()) {
        if (!schema->is_object()) { why = "json_schema must be an object"; return false; }
        r.json_schema = schema->dump();
    }
    double top_p = 1;
    if (!field(v, "top_p", top_p, why)) return false;
    if (!(top_p > 0 && top_p <= 1)) { why = "top_p must be in (0, 1]"; return false; }
    r.top_p = static_cast<float>(top_p);
    double max_tokens = 256, temperature = 0;
    if (!field(v, "max_tokens", max_tokens, why) || !field(v, "temperature", temperature, why) ||
        !field(v, "ignore_eos", r.ignore_eos, why)) return false;
    r.max_tokens = static_cast<int>(max_tokens);
    r.temperature = static_cast<float>(temperature);
    // Without a seed, a random one.
    double seed = -1;
    if (!field(v, "seed", seed, why)) return false;
    r.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();
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

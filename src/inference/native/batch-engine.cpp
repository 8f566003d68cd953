// batch-engine: llama.cpp's batched decode loop as a long-running process, driven over JSON lines.
//
//   batch-engine --model m.gguf --sequences 32 --ctx-per-seq 2048 --ngl 99 --threads 8 [--batch 512]
//                [--kv-unified 0|1] [--prefix-cache 0|1]
//
// stdin, one JSON object per line:
//   {"id":"a","messages":[{"role":"system","content":"..."},{"role":"user","content":"..."}],
//    "max_tokens":128,"temperature":0.2,"seed":7,"ignore_eos":false,
//    "top_p":0.9,"stop":["\n\n"],"json_schema":{...}}          (the last three optional)
//   {"id":"b","prompt":"raw text",...}            a raw prompt: no chat template, BOS then plain text
//   {"cancel":"a"}
//   {"id":"t","tokenize":true,"messages":[...]}  counts the prompt's tokens without generating:
//                                               {"id":"t","prompt_tokens":P,"control_tokens":C}
// The messages are rendered with the model's own chat template (llama_chat_apply_template), so callers
// never need the template; their contents are tokenized as plain text (prompt.hpp). stdout, one JSON
// object per line:
//   {"ready":true,"protocol":2,"sequences":32,"ctx_per_seq":2048}  once, after the model is loaded
//   {"id":"a","piece":"text"}                                       per token (complete UTF-8 only)
//   {"id":"a","done":true,"reason":"eos|max_tokens|stop|aborted","tokens":N,"prompt_tokens":P,"cached":C}
//                                       (C of the P prompt tokens came from the prefix cache)
//   {"id":"a","error":"...","code":"context_overflow|bad_request|inference_failed"}
// A json_schema becomes a grammar (llama.cpp's common/json-schema-to-grammar.cpp), applied with llama.cpp's
// sampler chain to that row only; rows without a grammar or top_p keep the fused row sampler.
// Each decode step carries one token per generating sequence plus chunks of waiting prompts, in ONE
// llama_decode on ONE context whose n_seq_max equals the sequence count (continuous batching).
// --kv-unified 1 puts all sequences in one KV buffer: every token's attention and mask then span every
// sequence's cells, which llama.h itself warns against when sequences share no prefix; the default (0)
// gives each sequence its own KV stream, as llama-batched-bench does.
//
// Prefix cache (--prefix-cache 1, the default): a finished sequence keeps its KV cells and the tokens
// they hold. A new request takes the free sequence whose cells share the longest prefix with its prompt,
// or copies the cells of whichever sequence (busy or free) shares a longer one, and decodes only the
// rest. Every conversation's prompt starts with the same system rules, and questions on one topic share
// their retrieved sources too, so most of a prompt is usually already in some sequence's cells.
#include "llama.h"
#include "ggml-backend.h"

#include "constrain.hpp"
#include "prompt.hpp"
#include "protocol.hpp"
#include "row-sampler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace protocol;

struct Slot {
    bool busy = false;
    std::string id;
    std::vector<llama_token> prompt;
    size_t prompt_done = 0;   // prompt tokens already in the batch stream
    size_t cached_prompt = 0; // of which taken from the prefix cache
    int n_past = 0;           // next position
    int generated = 0, max_tokens = 0;
    llama_token next = -1;    // sampled token not yet decoded
    int logits_at = -1;       // index of this slot's logits in the current batch
    rowsample::RowSampler sampler;
    // llama.cpp's sampler chain, for the rows the fused row sampler cannot serve: a grammar (json_schema)
    // or top_p < 1. Null otherwise.
    llama_sampler * chain = nullptr;
    bool grammar = false;
    std::vector<llama_token_data> candidates;
    std::vector<std::string> stop;
    std::string held;         // answer text that may be the start of a stop string
    float * logits = nullptr;  // this step's logits row
    llama_token sampled = -1;
    bool ignore_eos = false;
    std::string pending;      // bytes of an unfinished UTF-8 character
    // The tokens whose KV cells this sequence holds, position by position. Kept when the request ends,
    // so that the next request with the same prompt prefix starts from them (the prefix cache).
    std::vector<llama_token> cached;
};

// Lines from stdin, filled by a reader thread so that decoding never waits on input.
struct Inbox {
    std::mutex m;
    std::condition_variable cv;
    std::deque<std::string> lines;
    bool closed = false;
};

struct Engine {
    Options opt;
    llama_model * model = nullptr;
    llama_context * ctx = nullptr;
    const llama_vocab * vocab = nullptr;
    std::string tmpl;
    std::vector<Slot> slots;
    std::deque<Request> waiting;
    int rows_per_thread = 8;
    // Write the previous step's pieces after launching the next decode (overlapping the GPU) rather than
    // before it; the CPU backend computes inside llama_decode, so there it is always before.
    bool flush_after_launch = false;
    std::vector<llama_token> eog_tokens;  // the vocabulary's end-of-generation tokens (EOS, end of turn)
    // Per busy period (idle to idle): steps, tokens decoded, prompt tokens taken from the prefix cache, ms
    // in llama_decode, ms sampling, ms overall.
    struct {
        long steps = 0, tokens = 0, prompt_tokens = 0, reused = 0;
        double decode_ms = 0, sync_ms = 0, sample_ms = 0, step_ms = 0;
    } stats;

    prompt::Tokenizer tokenizer;
    constrain::Chains chains;

    // The request's prompt tokens (see prompt.hpp: contents never yield control tokens); false with `why`.
    bool tokenize(const Request & r, std::vector<llama_token> & toks, std::string & why) {
        if (r.raw) {
            // A raw prompt is plain text too: BOS, then its tokens, with no special-token parsing.
            tokenizer.begin(toks);
            tokenizer.text(r.raw_prompt, toks);
            if (toks.empty()) { why = "empty prompt"; return false; }
            return true;
        }
        std::vector<std::pair<std::string, bool>> pieces;
        if (!prompt::render(tmpl, r.messages, pieces, why)) return false;
        toks = tokenizer.tokenize(pieces);
        if (toks.empty()) { why = "empty prompt"; return false; }
        return true;
    }

    void send_piece(const Slot & s, const std::string & piece) {
        if (!piece.empty()) out += "{\"id\":" + quote(s.id) + ",\"piece\":" + quote(piece) + "}\n";
    }

    void finish(Slot & s, const char * reason) {
        std::string rest;
        const bool stopped = constrain::filter_stop(s.stop, s.held, take_utf8(s.pending, true), rest);
        if (!stopped) rest += s.held;
        send_piece(s, rest);
        if (stopped) reason = "stop";
        out += "{\"id\":" + quote(s.id) + ",\"done\":true,\"reason\":\"" + reason + "\",\"tokens\":" +
               std::to_string(s.generated) + ",\"prompt_tokens\":" + std::to_string(s.prompt.size()) +
               ",\"cached\":" + std::to_string(s.cached_prompt) + "}\n";
        release(s);
    }


    llama_seq_id seq_of(const Slot & s) const { return static_cast<llama_seq_id>(&s - slots.data()); }

    // Ends a request. Its cells stay (they are the prefix cache) unless `forget` or the cache is off.
    void release(Slot & s, bool forget = false) {
        std::vector<llama_token> cached;
        if (opt.prefix_cache && !forget) cached.swap(s.cached);
        else llama_memory_seq_rm(llama_get_memory(ctx), seq_of(s), -1, -1);
        if (s.chain) llama_sampler_free(s.chain);
        s = Slot();
        s.cached.swap(cached);
    }

    static size_t common_prefix(const std::vector<llama_token> & a, const std::vector<llama_token> & b) {
        const size_t n = std::min(a.size(), b.size());
        size_t i = 0;
        while (i < n && a[i] == b[i]) i++;
        return i;
    }

    // The free sequence for a prompt, and how many of its tokens need no decoding: the free sequence
    // whose own cells share the longest prefix, or, when another sequence shares a longer one by at
    // least kMinCopy tokens, a free sequence that receives a copy of that one's cells (with a KV stream
    // per sequence, llama.cpp copies the whole stream on the GPU at the next decode: ~64 MB for the 1B
    // shape at 2,048 cells, tens of microseconds).
    static constexpr size_t kMinCopy = 32;
    Slot * place(const std::vector<llama_token> & prompt, size_t & reuse) {
        Slot * best_free = nullptr;
        size_t best_free_len = 0;
        const Slot * best_any = nullptr;
        size_t best_any_len = 0;
        for (auto & s : slots) {
            const size_t len = opt.prefix_cache ? common_prefix(s.cached, prompt) : 0;
            // Among equals, a free sequence holding nothing is taken before one holding another prefix.
            if (!s.busy && (!best_free || len > best_free_len || (len == best_free_len && s.cached.size() < best_free->cached.size()))) {
                best_free = &s;
                best_free_len = len;
            }
            if (len > best_any_len) { best_any = &s; best_any_len = len; }
        }
        if (!best_free) return nullptr;
        llama_memory_t mem = llama_get_memory(ctx);
        reuse = best_free_len;
        if (best_any && best_any != best_free && best_any_len >= best_free_len + kMinCopy) {
            llama_memory_seq_rm(mem, seq_of(*best_free), -1, -1);
            llama_memory_seq_cp(mem, seq_of(*best_any), seq_of(*best_free), -1, -1);
            best_free->cached = best_any->cached;
            reuse = best_any_len;
        }
        // At least the prompt's last token is decoded again: its logits give the first answer token.
        reuse = std::min(reuse, prompt.size() - 1);
        llama_memory_seq_rm(mem, seq_of(*best_free), static_cast<llama_pos>(reuse), -1);
        best_free->cached.resize(reuse);
        return best_free;
    }

    // Tokenizes a request and starts it on a free sequence, or answers it with an error.
    void admit(Request & r) {
        std::vector<llama_token> toks;
        std::string why;
        if (!tokenize(r, toks, why)) { emit_error(r.id, why, "bad_request"); return; }
        if (static_cast<int>(toks.size()) >= opt.ctx_per_seq) {
            emit_error(r.id, "the prompt is " + std::to_string(toks.size()) + " tokens; a sequence holds " +
                                 std::to_string(opt.ctx_per_seq) + " (prompt and answer together)", "context_overflow");
            return;
        }
        llama_sampler * chain = nullptr;
        if (!chains.make(r, chain, why)) { emit_error(r.id, why, "bad_request"); return; }
        size_t reuse = 0;
        Slot * slot = place(toks, reuse);
        if (!slot) {  // never: requests wait in `waiting` until a sequence is free
            if (chain) llama_sampler_free(chain);
            emit_error(r.id, "no free sequence");
            return;
        }
        Slot & s = *slot;
        s.busy = true;
        s.id = r.id;
        s.prompt = std::move(toks);
        s.prompt_done = s.cached_prompt = reuse;
        s.n_past = static_cast<int>(reuse);
        stats.prompt_tokens += static_cast<long>(s.prompt.size());
        stats.reused += static_cast<long>(reuse);
        // The answer may not run past the sequence's share of the context.
        s.max_tokens = std::min(r.max_tokens, opt.ctx_per_seq - static_cast<int>(s.prompt.size()));
        s.chain = chain;
        s.grammar = !r.json_schema.empty();
        // A grammar decides where the answer ends: masking the end would leave a complete one no token.
        s.ignore_eos = r.ignore_eos && !s.grammar;
        s.stop = r.stop;
        s.sampler.reset(r.temperature, r.seed);
    }

    int busy_count() const {
        int n = 0;
        for (const auto & s : slots) n += s.busy ? 1 : 0;
        return n;
    }

    void handle(const std::string & line) {
        const json v = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!v.is_object()) { emit_error("", "not a JSON object", "bad_request"); return; }
        if (const auto c = v.find("cancel"); c != v.end()) {
            const std::string id = c->is_string() ? c->get<std::string>() : c->dump();
            for (auto it = waiting.begin(); it != waiting.end(); ++it)
                if (it->id == id) {
                    out += "{\"id\":" + quote(id) + ",\"done\":true,\"reason\":\"aborted\",\"tokens\":0}\n";
                    waiting.erase(it);
                    return;
                }
            for (auto & s : slots) if (s.busy && s.id == id) { finish(s, "aborted"); return; }
            return;  // already finished
        }
        Request r;
        std::string why;
        if (!parse_request(v, r, why)) { emit_error(r.id, why, "bad_request"); return; }
        if (v.contains("tokenize")) {
            // The prompt's tokens, counted without generating (how many are control tokens shows whether
            // any text became template structure).
            std::vector<llama_token> toks;
            if (!tokenize(r, toks, why)) { emit_error(r.id, why, "bad_request"); return; }
            out += "{\"id\":" + quote(r.id) + ",\"prompt_tokens\":" + std::to_string(toks.size()) +
                   ",\"control_tokens\":" + std::to_string(tokenizer.count_control(toks)) + "}\n";
            return;
        }
        waiting.push_back(std::move(r));
    }

    // Samples every sequence that has logits this step, on up to opt.threads OpenMP threads (a pool that
    // persists between steps). Logit rows are fetched first on this thread (llama_get_logits_ith waits for
    // the GPU and may reorder outputs); each sequence then has its own sampler and scratch space.
    void sample_all() {
        using clock = std::chrono::steady_clock;
        const auto t0 = clock::now();
        std::vector<Slot *> ready, chained;
        for (auto & s : slots)
            if (s.busy && s.logits_at >= 0) {
                s.logits = llama_get_logits_ith(ctx, s.logits_at);
                (s.chain ? chained : ready).push_back(&s);
            }
        stats.sync_ms += std::chrono::duration<double, std::milli>(clock::now() - t0).count();
        const int n_vocab = llama_vocab_n_tokens(vocab);
        auto sample = [this, n_vocab](Slot & s) {
            // The row is this context's output buffer, rewritten by the next decode: ignore_eos can mask
            // end-of-generation tokens in place.
            if (s.ignore_eos) for (llama_token t : eog_tokens) s.logits[t] = -INFINITY;
            s.sampled = s.sampler.sample(s.logits, n_vocab);
        };
        const int n = static_cast<int>(ready.size());
        // ~20 us per 32,000-token row with AVX2: a thread per 8 rows (BATCH_ENGINE_ROWS_PER_THREAD) keeps
        // the pool's wake-up cost below the work it shares, and leaves cores to llama.cpp's own threads.
        const int n_threads = std::max(1, std::min(opt.threads, (n + rows_per_thread - 1) / rows_per_thread));
#pragma omp parallel for schedule(static) num_threads(n_threads) if (n_threads > 1)
        for (int i = 0; i < n; i++) sample(*ready[i]);
        // Rows with a grammar or top-p go through llama.cpp's samplers, one after another on this thread.
        for (Slot * s : chained) {
            if (s->ignore_eos) for (llama_token t : eog_tokens) s->logits[t] = -INFINITY;
            s->sampled = constrain::sample(s->chain, s->logits, n_vocab, s->candidates);
        }
    }

    // One step: decode what is ready, sample every sequence whose logits came out. False when idle.
    bool step(llama_batch & batch) {
        while (!waiting.empty() && busy_count() < static_cast<int>(slots.size())) {
            Request r = std::move(waiting.front());
            waiting.pop_front();
            admit(r);
        }
        batch.n_tokens = 0;
        auto add = [&](Slot & s, llama_token t, bool logits) {
            const int i = batch.n_tokens++;
            batch.token[i] = t;
            batch.pos[i] = s.n_past++;
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = static_cast<llama_seq_id>(&s - slots.data());
            batch.logits[i] = logits;
            if (logits) s.logits_at = i;
            s.cached.push_back(t);
        };
        // Running generations first (one token each), then prompt chunks in the room that is left.
        for (auto & s : slots) if (s.busy && s.next >= 0) { add(s, s.next, true); s.next = -1; }
        for (auto & s : slots) {
            while (s.busy && s.prompt_done < s.prompt.size() && batch.n_tokens < opt.batch) {
                const bool last = s.prompt_done + 1 == s.prompt.size();
                add(s, s.prompt[s.prompt_done++], last);
            }
        }
        if (batch.n_tokens == 0) return false;
        using clock = std::chrono::steady_clock;
        const auto ms = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
        // The previous step's pieces go out before this decode (BATCH_ENGINE_FLUSH=after: once it is
        // launched, which overlaps the GPU but waits for llama_decode to return).
        if (!flush_after_launch) flush_out();
        const auto t0 = clock::now();
        const int rc = llama_decode(ctx, batch);
        const auto t1 = clock::now();
        flush_out();
        const auto t2 = clock::now();
        stats.steps++;
        stats.tokens += batch.n_tokens;
        stats.decode_ms += ms(t0, t1);
        if (rc != 0) {
            // The batch's tokens may be partly in the cells: forget every sequence that had a token in it.
            for (auto & s : slots)
                if (s.busy && (s.logits_at >= 0 || s.prompt_done < s.prompt.size())) {
                    emit_error(s.id, "llama_decode failed: " + std::to_string(rc));
                    release(s, true);
                }
            return true;
        }
        sample_all();
        stats.sample_ms += ms(t2, clock::now());
        for (auto & s : slots) {
            if (!s.busy || s.logits_at < 0) continue;
            const llama_token t = s.sampled;
            s.logits_at = -1;
            if (llama_vocab_is_eog(vocab, t)) { finish(s, "eos"); continue; }
            s.generated++;
            char buf[256];
            const int n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, false);
            if (n > 0) s.pending.append(buf, n);
            std::string send;
            const bool stopped = constrain::filter_stop(s.stop, s.held, take_utf8(s.pending, false), send);
            send_piece(s, send);
            if (stopped) finish(s, "stop");
            else if (s.generated >= s.max_tokens) finish(s, "max_tokens");
            else s.next = t;
        }
        return true;
    }
};

}  // namespace

int main(int argc, char ** argv) {
    Engine e;
    if (!parse_args(argc, argv, e.opt)) {
        fprintf(stderr, "usage: batch-engine --model m.gguf --sequences N --ctx-per-seq T --ngl L --threads C [--batch B] [--kv-unified 1|0] [--prefix-cache 1|0]\n");
        return 2;
    }
    Options & o = e.opt;
    // Room for one token per sequence in every step, however many prompt tokens share it.
    o.batch = std::max(o.batch, o.sequences);
    // Backends built as loadable modules (GGML_BACKEND_DL) sit next to the executable.
    ggml_backend_load_all();
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = o.ngl;
    e.model = llama_model_load_from_file(o.model.c_str(), mp);
    if (!e.model) { printf("{\"fatal\":%s}\n", quote("cannot load model " + o.model).c_str()); return 1; }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(o.ctx_per_seq) * o.sequences;
    cp.n_seq_max = o.sequences;
    cp.n_batch = cp.n_ubatch = o.batch;
    cp.n_threads = cp.n_threads_batch = o.threads;
    cp.kv_unified = o.kv_unified;
    cp.no_perf = true;
    e.ctx = llama_init_from_model(e.model, cp);
    if (!e.ctx) { printf("{\"fatal\":\"cannot create a context of %u tokens\"}\n", cp.n_ctx); return 1; }
    e.vocab = llama_model_get_vocab(e.model);
    e.tokenizer.init(e.vocab);
    e.chains.vocab = e.vocab;
    const char * t = llama_model_chat_template(e.model, nullptr);
    e.tmpl = t ? t : "chatml";
    for (llama_token tok = 0; tok < llama_vocab_n_tokens(e.vocab); tok++)
        if (llama_vocab_is_eog(e.vocab, tok)) e.eog_tokens.push_back(tok);
    e.slots.resize(o.sequences);
    if (const char * rows = getenv("BATCH_ENGINE_ROWS_PER_THREAD")) e.rows_per_thread = std::max(1, atoi(rows));
    if (const char * f = getenv("BATCH_ENGINE_FLUSH")) e.flush_after_launch = o.ngl > 0 && std::string(f) == "after";
    llama_batch batch = llama_batch_init(o.batch, 0, 1);

    Inbox inbox;
    std::thread reader([&] {
        std::string line;
        while (std::getline(std::cin, line)) {
            std::lock_guard<std::mutex> lock(inbox.m);
            inbox.lines.push_back(std::move(line));
            inbox.cv.notify_one();
        }
        std::lock_guard<std::mutex> lock(inbox.m);
        inbox.closed = true;
        inbox.cv.notify_one();
    });
    printf("{\"ready\":true,\"protocol\":%d,\"sequences\":%d,\"ctx_per_seq\":%d}\n", kProtocolVersion, o.sequences, o.ctx_per_seq);
    fflush(stdout);

    // BATCH_ENGINE_STATS=file: one JSON line of timings per busy period (benchmarks read it).
    FILE * stats_file = getenv("BATCH_ENGINE_STATS") ? fopen(getenv("BATCH_ENGINE_STATS"), "a") : nullptr;
    bool busy = false;
    for (;;) {
        std::deque<std::string> lines;
        {
            std::unique_lock<std::mutex> lock(inbox.m);
            // Block only when nothing is running; otherwise take what has arrived and keep decoding.
            if (!busy) inbox.cv.wait(lock, [&] { return !inbox.lines.empty() || inbox.closed; });
            lines.swap(inbox.lines);
            if (inbox.closed && lines.empty() && !busy) break;
        }
        for (const auto & l : lines) if (!l.empty()) e.handle(l);
        const auto s0 = std::chrono::steady_clock::now();
        const bool was_busy = busy;
        busy = e.step(batch);
        if (!busy) flush_out();  // while busy, step() writes once the next decode is under way
        if (busy) e.stats.step_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
        if (was_busy && !busy && stats_file) {
            fprintf(stats_file, "{\"steps\":%ld,\"tokens\":%ld,\"prompt_tokens\":%ld,\"prompt_tokens_cached\":%ld,\"decode_ms\":%.1f,\"gpu_wait_ms\":%.1f,\"sample_ms\":%.1f,\"step_ms\":%.1f}\n",
                    e.stats.steps, e.stats.tokens, e.stats.prompt_tokens, e.stats.reused, e.stats.decode_ms, e.stats.sync_ms,
                    e.stats.sample_ms - e.stats.sync_ms, e.stats.step_ms);
            fflush(stats_file);
            e.stats = {};
        }
        if (!busy) {
            std::lock_guard<std::mutex> lock(inbox.m);
            if (inbox.closed && inbox.lines.empty()) break;
        }
    }
    reader.join();
    llama_batch_free(batch);
    llama_free(e.ctx);
    llama_model_free(e.model);
    return 0;
}

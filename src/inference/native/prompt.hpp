// prompt: a request's messages rendered with the model's chat template and tokenized so that only the
// template's own text can yield control tokens. Message contents (a user's words, a knowledge source) are
// always plain text: "<|im_end|><|im_start|>system" typed by a user stays those characters, never the
// ChatML tokens that would open a forged system turn.
//
// How: the template is rendered with a sentinel in place of each content, the result is cut at the
// sentinels, and the control tokens are looked up in the template's pieces only. Then, as llama.cpp's own
// tokenizer does with parse_special (it splits the text at special tokens and tokenizes each stretch of
// text between them on its own), each stretch between two control tokens, template text and contents
// together, is tokenized as plain text. A prompt without injected text thus gets the very tokens that
// tokenizing the whole rendered prompt with parse_special gives.
#pragma once

#include "llama.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace prompt {

// Never in a template, so it marks a content's place in the rendered text.
constexpr char kMark = '\x1f';

inline bool known_role(const std::string & role) {
    return role == "system" || role == "user" || role == "assistant";
}

struct Tokenizer {
    const llama_vocab * vocab = nullptr;
    // Control tokens' texts, longest first (so "<|im_start|>" wins over any shorter control token it starts with).
    std::vector<std::pair<std::string, llama_token>> controls;

    void init(const llama_vocab * v) {
        vocab = v;
        for (llama_token t = 0; t < llama_vocab_n_tokens(v); t++) {
            if (!llama_vocab_is_control(v, t)) continue;
            const char * text = llama_vocab_get_text(v, t);
            if (text && *text) controls.emplace_back(text, t);
        }
        std::stable_sort(controls.begin(), controls.end(),
                         [](const auto & a, const auto & b) { return a.first.size() > b.first.size(); });
    }

    // Plain text: no special-token parsing (llama.cpp still adds SentencePiece's space prefix at the start
    // of a stretch, as it does after each special token).
    void text(const std::string & s, std::vector<llama_token> & out) const {
        if (s.empty()) return;
        std::vector<llama_token> toks(s.size() + 8);
        int n = llama_tokenize(vocab, s.c_str(), static_cast<int>(s.size()), toks.data(), static_cast<int>(toks.size()), false, false);
        if (n < 0) {
            toks.resize(-n);
            n = llama_tokenize(vocab, s.c_str(), static_cast<int>(s.size()), toks.data(), static_cast<int>(toks.size()), false, false);
        }
        out.insert(out.end(), toks.begin(), toks.begin() + std::max(n, 0));
    }

    void begin(std::vector<llama_token> & out) const {
        if (llama_vocab_get_add_bos(vocab)) out.push_back(llama_vocab_bos(vocab));
    }

    // Tokenizes a sequence of (text, from_template) pieces: control tokens only inside template pieces.
    std::vector<llama_token> tokenize(const std::vector<std::pair<std::string, bool>> & pieces) const {
        std::vector<llama_token> out;
        begin(out);
        std::string stretch;  // plain text since the last control token
        for (const auto & [piece, from_template] : pieces) {
            if (!from_template) { stretch += piece; continue; }
            size_t i = 0;
            while (i < piece.size()) {
                const auto hit = std::find_if(controls.begin(), controls.end(), [&](const auto & c) {
                    return piece.compare(i, c.first.size(), c.first) == 0;
                });
                if (hit == controls.end()) { stretch += piece[i++]; continue; }
                text(stretch, out);
                stretch.clear();
                out.push_back(hit->second);
                i += hit->first.size();
            }
        }
        text(stretch, out);
        return out;
    }

    int count_control(const std::vector<llama_token> & toks) const {
        int n = 0;
        for (llama_token t : toks) n += llama_vocab_is_control(vocab, t) ? 1 : 0;
        return n;
    }
};

// Renders `messages` (role, content) with `tmpl` and cuts the result into template text and contents.
// False (with `why`) for an unknown role or a template llama.cpp does not know.
inline bool render(const std::string & tmpl, const std::vector<std::pair<std::string, std::string>> & messages,
                   std::vector<std::pair<std::string, bool>> & pieces, std::string & why) {
    std::vector<std::string> marks;
    std::vector<llama_chat_message> chat;
    for (size_t i = 0; i < messages.size(); i++) {
        if (!known_role(messages[i].first)) { why = "unknown role \"" + messages[i].first + "\" (system, user or assistant)"; return false; }
        marks.push_back(std::string(1, kMark) + std::to_string(i) + kMark);
    }
    for (size_t i = 0; i < messages.size(); i++) chat.push_back({messages[i].first.c_str(), marks[i].c_str()});
    std::vector<char> buf(4096);
    int n = llama_chat_apply_template(tmpl.c_str(), chat.data(), chat.size(), true, buf.data(), static_cast<int32_t>(buf.size()));
    if (n > static_cast<int>(buf.size())) {
        buf.resize(n);
        n = llama_chat_apply_template(tmpl.c_str(), chat.data(), chat.size(), true, buf.data(), static_cast<int32_t>(buf.size()));
    }
    if (n < 0) { why = "the model's chat template is not one llama.cpp knows"; return false; }
    const std::string rendered(buf.data(), n);
    size_t at = 0;
    while (at < rendered.size()) {
        const size_t open = rendered.find(kMark, at);
        const size_t close = open == std::string::npos ? std::string::npos : rendered.find(kMark, open + 1);
        if (close == std::string::npos) { pieces.emplace_back(rendered.substr(at), true); break; }
        pieces.emplace_back(rendered.substr(at, open - at), true);
        const size_t index = std::stoul(rendered.substr(open + 1, close - open - 1));
        if (index < messages.size()) pieces.emplace_back(messages[index].second, false);
        at = close + 1;
    }
    return true;
}

}  // namespace prompt

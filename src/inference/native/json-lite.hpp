// A minimal JSON reader and string quoter for batch-engine's flat request lines (no dependencies).
#pragma once

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace json {

struct Value {
    enum Type { Null, Bool, Number, String, Array, Object } type = Null;
    bool b = false;
    double n = 0;
    std::string s;
    std::vector<Value> items;                          // Array
    std::vector<std::pair<std::string, Value>> fields;  // Object

    const Value * get(const std::string & key) const {
        for (const auto & f : fields) if (f.first == key) return &f.second;
        return nullptr;
    }
    std::string str(const std::string & key) const {
        const Value * v = get(key);
        return v && v->type == String ? v->s : (v && v->type == Number ? std::to_string(static_cast<long long>(v->n)) : "");
    }
    double num(const std::string & key, double fallback) const {
        const Value * v = get(key);
        return v && v->type == Number ? v->n : fallback;
    }
    bool boolean(const std::string & key, bool fallback) const {
        const Value * v = get(key);
        return v && v->type == Bool ? v->b : fallback;
    }
};

inline void put_utf8(std::string & out, unsigned cp) {
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

class Parser {
  public:
    explicit Parser(const std::string & t) : t_(t) {}
    bool value(Value & v, int depth = 0) {
        if (depth > 16) return false;
        ws();
        if (i_ >= t_.size()) return false;
        const char c = t_[i_];
        if (c == '{') return object(v, depth);
        if (c == '[') return array(v, depth);
        if (c == '"') { v.type = Value::String; return string(v.s); }
        if (lit("true")) { v.type = Value::Bool; v.b = true; return true; }
        if (lit("false")) { v.type = Value::Bool; v.b = false; return true; }
        if (lit("null")) { v.type = Value::Null; return true; }
        const char * start = t_.c_str() + i_;
        char * end = nullptr;
        v.n = std::strtod(start, &end);
        if (end == start) return false;
        v.type = Value::Number;
        i_ += end - start;
        return true;
    }
    bool at_end() { ws(); return i_ == t_.size(); }

  private:
    const std::string & t_;
    size_t i_ = 0;
    void ws() { while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\r' || t_[i_] == '\n')) i_++; }
    bool lit(const char * w) {
        const size_t n = std::char_traits<char>::length(w);
        if (t_.compare(i_, n, w) != 0) return false;
        i_ += n;
        return true;
    }
    bool hex4(unsigned & cp) {
        if (i_ + 4 > t_.size()) return false;
        cp = 0;
        for (int k = 0; k < 4; k++) {
            const char h = t_[i_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') cp |= h - '0';
            else if (h >= 'a' && h <= 'f') cp |= h - 'a' + 10;
            else if (h >= 'A' && h <= 'F') cp |= h - 'A' + 10;
            else return false;
        }
        return true;
    }
    bool string(std::string & out) {
        i_++;  // opening quote
        while (i_ < t_.size()) {
            const char c = t_[i_++];
            if (c == '"') return true;
            if (c != '\\') { out += c; continue; }
            if (i_ >= t_.size()) return false;
            const char e = t_[i_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp;
                    if (!hex4(cp)) return false;
                    // A surrogate pair is one code point; a lone surrogate becomes U+FFFD.
                    if (cp >= 0xD800 && cp < 0xDC00 && t_.compare(i_, 2, "\\u") == 0) {
                        const size_t back = i_;
                        i_ += 2;
                        unsigned lo;
                        if (hex4(lo) && lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        else { i_ = back; cp = 0xFFFD; }
                    } else if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
                    put_utf8(out, cp);
                    break;
                }
                default: return false;
            }
        }
        return false;
    }
    bool array(Value & v, int depth) {
        v.type = Value::Array;
        i_++;
        ws();
        if (i_ < t_.size() && t_[i_] == ']') { i_++; return true; }
        for (;;) {
            v.items.emplace_back();
            if (!value(v.items.back(), depth + 1)) return false;
            ws();
            if (i_ >= t_.size()) return false;
            if (t_[i_] == ',') { i_++; continue; }
            if (t_[i_] == ']') { i_++; return true; }
            return false;
        }
    }
    bool object(Value & v, int depth) {
        v.type = Value::Object;
        i_++;
        ws();
        if (i_ < t_.size() && t_[i_] == '}') { i_++; return true; }
        for (;;) {
            ws();
            if (i_ >= t_.size() || t_[i_] != '"') return false;
            std::string key;
            if (!string(key)) return false;
            ws();
            if (i_ >= t_.size() || t_[i_] != ':') return false;
            i_++;
            v.fields.emplace_back(std::move(key), Value());
            if (!value(v.fields.back().second, depth + 1)) return false;
            ws();
            if (i_ >= t_.size()) return false;
            if (t_[i_] == ',') { i_++; continue; }
            if (t_[i_] == '}') { i_++; return true; }
            return false;
        }
    }
};

inline bool parse(const std::string & text, Value & v) {
    Parser p(text);
    return p.value(v) && p.at_end();
}

/** The JSON string literal of valid UTF-8 text (control characters escaped). */
inline std::string quote(const std::string & s) {
    std::string out = "\"";
    for (const unsigned char c : s) {
        if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c < 0x20) {
            static const char * hex = "0123456789abcdef";
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        } else out += static_cast<char>(c);
    }
    return out + "\"";
}

}  // namespace json

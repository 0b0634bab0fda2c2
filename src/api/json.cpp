#include "switchyard/api/json.hpp"

#include <cstdint>
#include <cstring>

namespace switchyard::api::json {
namespace detail {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence starting at p (lead byte >= 0x80), or 0 if invalid.
// Rejects overlong forms, surrogates and code points above U+10FFFF (RFC 3629).
std::size_t utf8_sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned char b = p[0];
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (static_cast<std::size_t>(end - p) < n) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return n;
}

// True when none of the 8 bytes at p is a control character, '"', '\\' or non-ASCII: the
// bytes a string scan must stop at (SWAR: "determine if a word has a byte less than n").
bool plain_ascii8(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  constexpr std::uint64_t kOnes = ~std::uint64_t{0} / 255;
  constexpr std::uint64_t kHigh = kOnes * 0x80;
  auto has_zero = [](std::uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  const std::uint64_t special = ((v - kOnes * 0x20) & ~v) | has_zero(v ^ (kOnes * '"')) |
                                has_zero(v ^ (kOnes * '\\')) | v;
  return (special & kHigh) == 0;
}

}  // namespace

void Cursor::skip_ws() {
  while (pos_ < text_.size() && is_ws(text_[pos_])) ++pos_;
}

bool Cursor::consume(char c) {
  if (pos_ < text_.size() && text_[pos_] == c) {
    ++pos_;
    return true;
  }
  return false;
}

bool Cursor::value(int depth, Value* out) {
  const std::size_t begin = pos_;
  bool ok;
  switch (peek()) {
    case '{':
      out->type = Type::object;
      ok = container(depth, '}');
      break;
    case '[':
      out->type = Type::array;
      ok = container(depth, ']');
      break;
    case '"': {
      out->type = Type::string;
      std::string_view ignored;
      ok = string(&ignored);
      break;
    }
    case 't':
      out->type = Type::boolean;
      ok = literal("true");
      break;
    case 'f':
      out->type = Type::boolean;
      ok = literal("false");
      break;
    case 'n':
      out->type = Type::null;
      ok = literal("null");
      break;
    default:
      out->type = Type::number;
      ok = number();
  }
  if (ok) out->raw = text_.substr(begin, pos_ - begin);
  return ok;
}

bool Cursor::container(int depth, char close) {
  if (depth >= kMaxDepth) {
    fail("JSON nested too deeply");
    return false;
  }
  const bool is_object = close == '}';
  ++pos_;  // '{' or '['
  skip_ws();
  if (consume(close)) return true;
  for (;;) {
    skip_ws();
    if (is_object) {
      std::string_view key;
      if (!string(&key)) return false;
      skip_ws();
      if (!consume(':')) {
        fail("expected ':' after an object key");
        return false;
      }
      skip_ws();
    }
    Value v;
    if (!value(depth + 1, &v)) return false;
    skip_ws();
    if (consume(',')) continue;
    if (consume(close)) return true;
    fail(is_object ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
    return false;
  }
}

bool Cursor::string(std::string_view* contents) {
  if (!consume('"')) {
    fail("expected a string");
    return false;
  }
  const std::size_t begin = pos_;
  const auto* p = reinterpret_cast<const unsigned char*>(text_.data());
  const std::size_t n = text_.size();
  while (pos_ < n) {
    // Eight plain ASCII bytes at a time: most of a chat request is message text.
    while (pos_ + 8 <= n && plain_ascii8(p + pos_)) pos_ += 8;
    if (pos_ >= n) break;
    const unsigned char c = p[pos_];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++pos_;
      continue;
    }
    if (c == '"') {
      *contents = text_.substr(begin, pos_ - begin);
      ++pos_;
      return true;
    }
    if (c == '\\') {
      if (pos_ + 1 >= n) break;
      const char e = text_[pos_ + 1];
      if (e == 'u') {
        if (pos_ + 6 > n) break;
        for (std::size_t i = 2; i < 6; ++i) {
          if (hex_value(text_[pos_ + i]) < 0) {
            fail("invalid \\u escape in a string");
            return false;
          }
        }
        pos_ += 6;
        continue;
      }
      if (!std::strchr("\"\\/bfnrt", e) || e == '\0') {
        fail("invalid escape in a string");
        return false;
      }
      pos_ += 2;
      continue;
    }
    if (c < 0x20) {
      fail("control character in a string");
      return false;
    }
    const std::size_t len = utf8_sequence(p + pos_, p + n);
    if (len == 0) {
      fail("invalid UTF-8 in a string");
      return false;
    }
    pos_ += len;
  }
  fail("unterminated string");
  return false;
}

bool Cursor::number() {
  const std::size_t n = text_.size();
  consume('-');
  if (pos_ >= n || !is_digit(text_[pos_])) {
    fail("invalid value");
    return false;
  }
  if (text_[pos_] == '0') {
    ++pos_;
  } else {
    while (pos_ < n && is_digit(text_[pos_])) ++pos_;
  }
  if (consume('.')) {
    if (pos_ >= n || !is_digit(text_[pos_])) {
      fail("invalid number");
      return false;
    }
    while (pos_ < n && is_digit(text_[pos_])) ++pos_;
  }
  if (pos_ < n && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (!consume('+')) consume('-');
    if (pos_ >= n || !is_digit(text_[pos_])) {
      fail("invalid number");
      return false;
    }
    while (pos_ < n && is_digit(text_[pos_])) ++pos_;
  }
  return true;
}

bool Cursor::literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) {
    fail("invalid value");
    return false;
  }
  pos_ += word.size();
  return true;
}

void Cursor::skip_validated() {
  const std::size_t n = text_.size();
  const char first = peek();
  if (first == '"') {
    // In validated text a quote ends the string unless an odd run of backslashes precedes it.
    for (std::size_t from = pos_ + 1;;) {
      const void* q = std::memchr(text_.data() + from, '"', n - from);
      if (!q) {
        pos_ = n;
        return;
      }
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(q) - text_.data());
      std::size_t slashes = 0;
      while (at - slashes > pos_ + 1 && text_[at - slashes - 1] == '\\') ++slashes;
      if (slashes % 2 == 0) {
        pos_ = at + 1;
        return;
      }
      from = at + 1;
    }
  }
  if (first != '{' && first != '[') {
    while (pos_ < n && !is_ws(text_[pos_]) && text_[pos_] != ',' && text_[pos_] != ']' &&
           text_[pos_] != '}')
      ++pos_;
    return;
  }
  int depth = 0;
  while (pos_ < n) {
    const char c = text_[pos_];
    if (c == '"') {
      skip_validated();
      continue;
    }
    ++pos_;
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return;
    }
  }
}

}  // namespace detail

std::optional<ScanError> validate(std::string_view text) {
  return scan(text, [](std::string_view, const Value&) {});
}

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
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

std::uint32_t hex4(std::string_view s) {
  std::uint32_t v = 0;
  for (char c : s.substr(0, 4)) v = v * 16 + static_cast<std::uint32_t>(detail::hex_value(c));
  return v;
}

}  // namespace

std::string unescape(std::string_view raw) {
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"')
    raw = raw.substr(1, raw.size() - 2);
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out += c;
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        std::uint32_t cp = hex4(raw.substr(i + 1));
        i += 4;
        // A high surrogate followed by an escaped low surrogate forms one code point; a lone
        // surrogate becomes U+FFFD, as JSON.parse + UTF-8 encoders do.
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < raw.size() && raw[i + 1] == '\\' &&
            raw[i + 2] == 'u') {
          const std::uint32_t lo = hex4(raw.substr(i + 3));
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        append_utf8(out, cp);
        break;
      }
      default: out += e;  // \" \\ \/
    }
  }
  return out;
}

bool key_equals(std::string_view key_raw, std::string_view name) {
  if (key_raw.find('\\') == std::string_view::npos) return key_raw == name;
  return unescape(key_raw) == name;
}

void append_quoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  out += '"';
  while (p < end) {
    const unsigned char c = *p;
    if (c >= 0x80) {
      // Text that is not UTF-8 (a client's raw request path) would make the whole document
      // invalid JSON (RFC 8259 §8.1): each stray byte becomes U+FFFD, as in unescape().
      const std::size_t len = detail::utf8_sequence(p, end);
      if (len == 0) {
        out += "\xEF\xBF\xBD";
        ++p;
      } else {
        out.append(reinterpret_cast<const char*>(p), len);
        p += len;
      }
      continue;
    }
    ++p;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace switchyard::api::json

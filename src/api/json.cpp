#include "switchyard/api/json.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace switchyard::api::json {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
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

// The first byte at or after `at` that a string scan must stop at: a control character, '"',
// '\\' or non-ASCII. Most of a chat request is message text, so this is the hot loop of request
// validation: 16 bytes per step with SSE2 (x86-64's baseline), a byte at a time elsewhere.
// Inlined into its two callers: most strings are short (27 bytes on average in the bench's
// request), and a call with its constants cost a third of scanning one.
[[gnu::always_inline]] inline std::size_t skip_plain(const unsigned char* p, std::size_t at,
                                                     std::size_t n) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (at + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    // Signed compare: bytes >= 0x80 are negative, so "less than space" catches them too.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmplt_epi8(v, space));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return at + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    at += 16;
  }
#endif
  while (at < n && p[at] >= 0x20 && p[at] < 0x80 && p[at] != '"' && p[at] != '\\') ++at;
  return at;
}

// The first of the bytes `a` or `b` at or after `at`, or n.
std::size_t find_byte(const unsigned char* p, std::size_t at, std::size_t n, char a, char b) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  for (; at + 16 <= n; at += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));
    if (mask != 0) return at + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  while (at < n && p[at] != a && p[at] != b) ++at;
  return at;
}

// The first '"', '{', '}', '[' or ']' at or after `at`, or n. Setting bit 0x20 folds '[' (0x5B)
// onto '{' (0x7B) and ']' (0x5D) onto '}' (0x7D); no other byte folds onto either.
std::size_t find_structural(const unsigned char* p, std::size_t at, std::size_t n) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i open = _mm_set1_epi8('{');
  const __m128i close = _mm_set1_epi8('}');
  const __m128i fold = _mm_set1_epi8(0x20);
  for (; at + 16 <= n; at += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    const __m128i folded = _mm_or_si128(v, fold);
    const __m128i hit =
        _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                     _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close)));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return at + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  while (at < n && p[at] != '"' && (p[at] | 0x20) != '{' && (p[at] | 0x20) != '}') ++at;
  return at;
}

}  // namespace

bool Cursor::value(int depth, Value* out) {
  const std::size_t begin = pos_;
  bool ok;
  switch (peek()) {
    case '{':
      out->type = Type::object;
      ok = container(depth, '}', [&](std::string_view) {
        Value member;
        return value(depth + 1, &member);
      });
      break;
    case '[':
      out->type = Type::array;
      ok = container(depth, ']', [&](std::string_view) {
        Value element;
        return value(depth + 1, &element);
      });
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

bool Cursor::string(std::string_view* contents) {
  if (!consume('"')) {
    fail("expected a string");
    return false;
  }
  const std::size_t begin = pos_;
  const auto* p = reinterpret_cast<const unsigned char*>(text_.data());
  const std::size_t n = text_.size();
  while (pos_ < n) {
    pos_ = skip_plain(p, pos_, n);
    if (pos_ >= n) break;
    const unsigned char c = p[pos_];
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
  const auto* p = reinterpret_cast<const unsigned char*>(text_.data());
  const std::size_t n = text_.size();
  const char first = peek();
  if (first != '"' && first != '{' && first != '[') {
    while (pos_ < n && !is_ws(text_[pos_]) && text_[pos_] != ',' && text_[pos_] != ']' &&
           text_[pos_] != '}')
      ++pos_;
    return;
  }
  // Validated text: only quotes, backslashes inside strings and brackets outside them matter.
  int depth = 0;
  bool in_string = false;
  std::size_t at = pos_;
  while (at < n) {
    at = in_string ? find_byte(p, at, n, '"', '\\') : find_structural(p, at, n);
    if (at >= n) break;
    const char c = static_cast<char>(p[at]);
    if (c == '\\') {
      at += 2;
      continue;
    }
    ++at;
    if (c == '"') {
      in_string = !in_string;
      if (!in_string && depth == 0) break;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (--depth == 0) {  // '}' or ']'
      break;
    }
  }
  pos_ = std::min(at, n);
}

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
  for (char c : s.substr(0, 4)) v = v * 16 + static_cast<std::uint32_t>(hex_value(c));
  return v;
}

}  // namespace

std::string unescape(std::string_view raw) {
  if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"')
    raw = raw.substr(1, raw.size() - 2);
  std::string out;
  out.reserve(raw.size());
  // Runs between escapes are copied whole: most strings have none.
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::size_t escape = std::min(raw.find('\\', i), raw.size());
    out.append(raw, i, escape - i);
    i = escape;
    if (i + 1 >= raw.size()) {
      if (i < raw.size()) out += raw[i];
      break;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
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
      default:
        out += e;  // \" \\ \/
    }
  }
  return out;
}

bool key_equals_escaped(std::string_view key_raw, std::string_view name) {
  if (key_raw.find('\\') == std::string_view::npos) return false;
  return unescape(key_raw) == name;
}

char* write_quoted(char* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  *out++ = '"';
  while (p < end) {
    // Runs of plain ASCII are copied whole; only the bytes around them need a look.
    const auto* plain_end = p + skip_plain(p, 0, static_cast<std::size_t>(end - p));
    std::memcpy(out, p, static_cast<std::size_t>(plain_end - p));
    out += plain_end - p;
    p = plain_end;
    if (p == end) break;
    const unsigned char c = *p;
    if (c >= 0x80) {
      // Text that is not UTF-8 (a client's raw request path) would make the whole document
      // invalid JSON (RFC 8259 §8.1): each stray byte becomes U+FFFD, as in unescape().
      const std::size_t len = utf8_sequence(p, end);
      if (len == 0) {
        std::memcpy(out, "\xEF\xBF\xBD", 3);
        out += 3;
        ++p;
      } else {
        std::memcpy(out, p, len);
        out += len;
        p += len;
      }
      continue;
    }
    ++p;
    *out++ = '\\';
    switch (c) {
      case '"':
      case '\\':
        *out++ = static_cast<char>(c);
        break;
      case '\n':
        *out++ = 'n';
        break;
      case '\r':
        *out++ = 'r';
        break;
      case '\t':
        *out++ = 't';
        break;
      default:  // the other control characters
        std::memcpy(out, "u00", 3);
        out[3] = kHex[c >> 4];
        out[4] = kHex[c & 0xF];
        out += 5;
    }
  }
  *out++ = '"';
  return out;
}

void append_quoted(std::string& out, std::string_view text) {
  const std::size_t at = out.size();
  out.resize(at + quoted_size_bound(text.size()));
  out.resize(static_cast<std::size_t>(write_quoted(out.data() + at, text) - out.data()));
}

}  // namespace switchyard::api::json

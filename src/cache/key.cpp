#include "switchyard/cache/key.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <system_error>
#include <vector>

#include "switchyard/api/json.hpp"

namespace switchyard::cache {

namespace {

namespace json = api::json;

// Bumped whenever the canonical form or the set of dropped fields changes, so that entries written
// by an older gateway (a shared Redis cache outlives a deploy) are never read as this one's.
constexpr std::string_view kKeyVersion = "switchyard-cache-v1";

// Top-level fields that do not change the answer: routing (model — the scope stands for it when
// the cache is per route), transport (stream, stream_options), and bookkeeping the provider keeps
// about the caller (user, metadata, store, service_tier, prompt_cache_key, safety_identifier).
constexpr std::array<std::string_view, 9> kIgnoredFields{
    "model",        "stream",           "stream_options",   "user", "metadata", "store",
    "service_tier", "prompt_cache_key", "safety_identifier"};

// Scratch buffers kept per thread so that a key costs no allocation once a worker has seen a
// request of that size; a rare huge body does not pin its buffers forever.
constexpr std::size_t kKeepScratchBytes = 1 << 20;

void append_shortest(std::string& out, double d) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, r.ptr);
}

// See canonical_json() in the header for the rules.
void append_number(std::string& out, std::string_view raw) {
  if (raw.find_first_of(".eE") == std::string_view::npos) {
    // JSON forbids leading zeros, so an integer literal is already in its one spelling but "-0".
    if (raw == "-0") {
      out += '0';
    } else {
      out += raw;
    }
    return;
  }
  double d = 0;
  const auto r = std::from_chars(raw.data(), raw.data() + raw.size(), d);
  if (r.ec != std::errc{} || r.ptr != raw.data() + raw.size()) {
    out += raw;  // out of a double's range
    return;
  }
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (std::trunc(d) == d && std::fabs(d) < kExactIntegers) {
    char buf[24];
    const auto w = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(d));
    out.append(buf, w.ptr);
    return;
  }
  append_shortest(out, d);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;  // validated: a-f or A-F
}

std::uint32_t hex4(std::string_view s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = at; i < at + 4; ++i)
    v = v * 16 + static_cast<std::uint32_t>(hex_digit(s[i]));
  return v;
}

// Appends one decoded code point the way api::json::append_quoted writes it.
void append_code_point(std::string& out, std::uint32_t cp) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (cp < 0x20) {
    switch (cp) {
      case '\n':
        out += "\\n";
        return;
      case '\r':
        out += "\\r";
        return;
      case '\t':
        out += "\\t";
        return;
      default:
        out += "\\u00";
        out += kHex[cp >> 4];
        out += kHex[cp & 0xF];
        return;
    }
  }
  if (cp == '"' || cp == '\\') {
    out += '\\';
    out += static_cast<char>(cp);
  } else if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    const char b[] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 2);
  } else if (cp < 0x10000) {
    const char b[] = {static_cast<char>(0xE0 | (cp >> 12)),
                      static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                      static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 3);
  } else {
    const char b[] = {
        static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
        static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 4);
  }
}

// The canonical text of a validated string's contents (between the quotes): what
// append_quoted(unescape(contents)) writes, without the intermediate string. Validated text
// without escapes holds no quote, backslash or control character, so runs between escapes are
// already canonical and are copied whole.
void append_canonical_contents(std::string& out, std::string_view contents) {
  std::size_t at = 0;
  for (;;) {
    const std::size_t escape = contents.find('\\', at);
    out.append(contents, at, escape == std::string_view::npos ? contents.size() - at : escape - at);
    if (escape == std::string_view::npos) return;
    const char e = contents[escape + 1];
    at = escape + 2;
    switch (e) {
      case 'b':
        append_code_point(out, '\b');
        break;
      case 'f':
        append_code_point(out, '\f');
        break;
      case 'n':
        append_code_point(out, '\n');
        break;
      case 'r':
        append_code_point(out, '\r');
        break;
      case 't':
        append_code_point(out, '\t');
        break;
      case 'u': {
        std::uint32_t cp = hex4(contents, at);
        at += 4;
        // As api::json::unescape: a high surrogate and an escaped low one form one code point; a
        // lone surrogate becomes U+FFFD.
        if (cp >= 0xD800 && cp <= 0xDBFF && at + 6 <= contents.size() && contents[at] == '\\' &&
            contents[at + 1] == 'u') {
          const std::uint32_t lo = hex4(contents, at + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            at += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        append_code_point(out, cp);
        break;
      }
      default:  // \" \\ \/
        append_code_point(out, static_cast<unsigned char>(e));
    }
  }
}

// What the top level of a request body may do with a member.
class TopLevel {
 public:
  explicit TopLevel(const KeyPolicy& policy) : policy_(policy) {}

  bool drops(std::string_view key) const {
    return std::find(kIgnoredFields.begin(), kIgnoredFields.end(), key) != kIgnoredFields.end();
  }
  // Looks at a kept member's canonical value; false stops the scan (the request is bypassed).
  bool inspect(std::string_view key, std::string_view value) {
    if (key == "tools" || key == "functions") {
      if (value != "[]" && value != "null") bypass_reason = std::string(key);
    } else if (key == "temperature" && value != "null") {
      double t = 0;
      const auto r = std::from_chars(value.data(), value.data() + value.size(), t);
      if (r.ec != std::errc{} || r.ptr != value.data() + value.size()) {
        bypass_reason = "temperature not a number";
      } else {
        temperature_ = t;
      }
    }
    return bypass_reason.empty();
  }
  // After the whole body: the temperature rules.
  void finish() {
    if (!bypass_reason.empty()) return;
    if (!temperature_) {
      // OpenAI samples at 1 when temperature is absent
      // (docs/providers.md, "OpenAI format: requests").
      if (policy_.max_temperature < 1) bypass_reason = "temperature not set (defaults to 1)";
      return;
    }
    if (*temperature_ > policy_.max_temperature) {
      bypass_reason = "temperature ";
      append_shortest(bypass_reason, *temperature_);
      bypass_reason += " above ";
      append_shortest(bypass_reason, policy_.max_temperature);
    }
  }

  std::string bypass_reason;

 private:
  const KeyPolicy& policy_;
  std::optional<double> temperature_;
};

// Writes the canonical form of a value in one pass over the text. An object's members are written
// in source order, then put in key order in place if they were not already.
class Canonicalizer {
 public:
  void reset() {
    out_.clear();
    keys_.clear();
    members_.clear();
  }
  void trim() {
    if (out_.capacity() > kKeepScratchBytes) std::string().swap(out_);
    if (keys_.capacity() > kKeepScratchBytes) std::string().swap(keys_);
    if (scratch_.capacity() > kKeepScratchBytes) std::string().swap(scratch_);
    if (members_.capacity() > kKeepScratchBytes / sizeof(Member))
      std::vector<Member>().swap(members_);
  }
  std::string& out() { return out_; }

  // The value at the cursor. `top` is non-null for a request body's top level only.
  bool value(json::Cursor& c, int depth, TopLevel* top = nullptr) {
    switch (c.peek()) {
      case '{':
        return object(c, depth, top);
      case '[':
        return array(c, depth);
      case '"': {
        std::string_view contents;
        if (!c.string(&contents)) return false;
        append_string(contents);
        return true;
      }
      default: {
        json::Value v;
        if (!c.value(depth, &v)) return false;
        if (v.type == json::Type::number) {
          append_number(out_, v.raw);
        } else {
          out_ += v.raw;  // true, false, null
        }
        return true;
      }
    }
  }

 private:
  // One member of an object being written: its unescaped key in keys_, its `"key":value` text in
  // out_. Both buffers and members_ are used as stacks, nested objects above their parent's.
  struct Member {
    std::size_t key_begin, key_size;
    std::size_t text_begin, text_end;
  };

  std::string_view key_of(const Member& m) const {
    return std::string_view(keys_).substr(m.key_begin, m.key_size);
  }

  void append_string(std::string_view contents) {
    out_ += '"';
    append_canonical_contents(out_, contents);
    out_ += '"';
  }

  bool object(json::Cursor& c, int depth, TopLevel* top) {
    const std::size_t base = members_.size();
    const std::size_t keys_base = keys_.size();
    out_ += '{';
    const std::size_t first = out_.size();
    const bool ok = c.object(depth, [&](std::string_view key_raw) {
      const std::size_t key_begin = keys_.size();
      if (key_raw.find('\\') == std::string_view::npos) {
        keys_ += key_raw;
      } else {
        keys_ += json::unescape(key_raw);
      }
      const std::size_t key_size = keys_.size() - key_begin;
      if (top && top->drops(std::string_view(keys_).substr(key_begin, key_size))) {
        keys_.resize(key_begin);
        json::Value ignored;
        return c.value(depth + 1, &ignored);
      }
      if (members_.size() > base) out_ += ',';
      const std::size_t text_begin = out_.size();
      json::append_quoted(out_, std::string_view(keys_).substr(key_begin, key_size));
      out_ += ':';
      const std::size_t value_begin = out_.size();
      if (!value(c, depth + 1)) return false;
      members_.push_back(Member{key_begin, key_size, text_begin, out_.size()});
      return !top ||
             top->inspect(key_of(members_.back()), std::string_view(out_).substr(value_begin));
    });
    if (!ok) return false;
    const auto begin = members_.begin() + static_cast<std::ptrdiff_t>(base);
    const auto by_key = [&](const Member& a, const Member& b) { return key_of(a) < key_of(b); };
    if (!std::is_sorted(begin, members_.end(), by_key)) {
      if (members_.end() - begin <= 16) {
        // Stable and allocation-free for the small objects that make up most of a request.
        for (auto it = begin + 1; it != members_.end(); ++it)
          std::rotate(std::upper_bound(begin, it, *it, by_key), it, it + 1);
      } else {
        std::stable_sort(begin, members_.end(), by_key);
      }
      scratch_.clear();
      for (auto it = begin; it != members_.end(); ++it) {
        if (it != begin) scratch_ += ',';
        scratch_.append(out_, it->text_begin, it->text_end - it->text_begin);
      }
      out_.resize(first);
      out_ += scratch_;
    }
    members_.resize(base);
    keys_.resize(keys_base);
    out_ += '}';
    return true;
  }

  bool array(json::Cursor& c, int depth) {
    out_ += '[';
    bool first = true;
    const bool ok = c.array(depth, [&] {
      if (!first) out_ += ',';
      first = false;
      return value(c, depth + 1);
    });
    out_ += ']';
    return ok;
  }

  std::string out_;
  std::string keys_;
  std::string scratch_;
  std::vector<Member> members_;
};

Canonicalizer& thread_canonicalizer() {
  thread_local Canonicalizer canonicalizer;
  canonicalizer.reset();
  return canonicalizer;
}

// Whole text, one value, nothing after it.
bool canonicalize(Canonicalizer& canon, std::string_view text, TopLevel* top) {
  json::Cursor c(text);
  c.skip_ws();
  if (!canon.value(c, 0, top)) return false;
  c.skip_ws();
  return c.at_end();
}

void sha256_hex(std::string_view text, std::string& hex) {
  // Fetched once and a context kept per thread: EVP_Digest would look the algorithm up (under a
  // lock) and allocate a context on every call, about a third of hashing a typical request.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                                 EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!sha256 || !ctx || !EVP_DigestInit_ex(ctx.get(), sha256, nullptr) ||
      !EVP_DigestUpdate(ctx.get(), text.data(), text.size()) ||
      !EVP_DigestFinal_ex(ctx.get(), digest, &size)) {
    EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
}

// The decisions for the bodies a worker saw last, by their exact bytes. A client that asks the
// same question again nearly always sends the same bytes (one SDK, one serialiser), and that repeat
// is what a cache hit is: it then costs a hash and a compare of the body instead of the canonical
// re-write and SHA-256 (about 24k instructions for a 1 KB body, more than the rest of a hit).
// Direct-mapped by the body's hash; bounded to kSlots bodies of at most kMaxBody bytes a worker.
class RecentDecisions {
 public:
  static constexpr std::size_t kSlots = 32;
  static constexpr std::size_t kMaxBody = 32 * 1024;

  struct Slot {
    std::uint64_t hash = 0;
    double max_temperature = 0;
    std::string scope;
    std::string body;
    std::optional<KeyDecision> decision;

    bool holds(std::uint64_t h, std::string_view b, std::string_view s, const KeyPolicy& p) const {
      return decision && hash == h && max_temperature == p.max_temperature && body == b &&
             scope == s;
    }
  };

  // Only picks a slot (the slot then compares the bytes), so speed matters more than quality:
  // four independent 64-bit lanes over 32 bytes a step, a quarter of std::hash's byte-serial
  // Murmur on a 1 KB body.
  static std::uint64_t hash(std::string_view body, std::string_view scope) {
    constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ULL;
    const auto mix = [](std::uint64_t h, std::uint64_t word) {
      return std::rotl((h ^ word) * kMul, 31);
    };
    const char* p = body.data();
    const std::size_t n = body.size();
    // The lanes as four variables: as an array GCC keeps them in memory (45 instructions a step
    // instead of 18).
    std::uint64_t a = n, b = std::hash<std::string_view>()(scope), c = 0, d = 0;
    const auto word = [](const char* at) {
      std::uint64_t w;
      std::memcpy(&w, at, sizeof w);
      return w;
    };
    std::size_t at = 0;
    for (; at + 32 <= n; at += 32) {
      a = mix(a, word(p + at));
      b = mix(b, word(p + at + 8));
      c = mix(c, word(p + at + 16));
      d = mix(d, word(p + at + 24));
    }
    char tail[32] = {};
    if (at < n) std::memcpy(tail, p + at, n - at);  // an empty view's data() may be null
    a = mix(a, word(tail));
    b = mix(b, word(tail + 8));
    c = mix(c, word(tail + 16));
    d = mix(d, word(tail + 24));
    std::uint64_t h = mix(mix(mix(a, b), c), d);
    h ^= h >> 33;  // MurmurHash3's finaliser: every bit of h reaches the low bits the slot uses
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
  }
  Slot& slot(std::uint64_t h) { return slots_[h % kSlots]; }

 private:
  std::array<Slot, kSlots> slots_;
};

KeyDecision compute_key(std::string_view body, std::string_view scope, const KeyPolicy& policy) {
  KeyDecision decision;
  std::size_t at = 0;
  while (at < body.size() && json::Cursor::is_ws(body[at])) ++at;
  if (at >= body.size() || body[at] != '{') {
    decision.bypass_reason = "body not an object";
    return decision;
  }
  Canonicalizer& canon = thread_canonicalizer();
  // The hashed text: version, then the scope length-prefixed (no scope can pass for the start of
  // a body), then the canonical body.
  std::string& text = canon.out();
  text += kKeyVersion;
  text += '\n';
  char len[24];
  text.append(len, std::to_chars(len, len + sizeof len, scope.size()).ptr);
  text += ':';
  text += scope;
  text += '\n';
  TopLevel top(policy);
  const bool ok = canonicalize(canon, body, &top);
  if (!top.bypass_reason.empty()) {
    decision.bypass_reason = std::move(top.bypass_reason);
  } else if (!ok) {
    decision.bypass_reason = "body not valid json";
  } else {
    top.finish();
    if (top.bypass_reason.empty()) {
      sha256_hex(text, decision.key);
    } else {
      decision.bypass_reason = std::move(top.bypass_reason);
    }
  }
  canon.trim();
  return decision;
}

}  // namespace

KeyDecision cache_key(std::string_view body, std::string_view scope, const KeyPolicy& policy) {
  if (body.size() > RecentDecisions::kMaxBody) return compute_key(body, scope, policy);
  thread_local RecentDecisions recent;
  const std::uint64_t hash = RecentDecisions::hash(body, scope);
  auto& slot = recent.slot(hash);
  if (!slot.holds(hash, body, scope, policy)) {
    slot.decision = compute_key(body, scope, policy);
    slot.hash = hash;
    slot.max_temperature = policy.max_temperature;
    slot.scope.assign(scope);
    slot.body.assign(body);
  }
  return *slot.decision;
}

std::optional<std::string> canonical_json(std::string_view text) {
  Canonicalizer& canon = thread_canonicalizer();
  std::optional<std::string> result;
  if (canonicalize(canon, text, nullptr)) result = canon.out();
  canon.trim();
  return result;
}

}  // namespace switchyard::cache

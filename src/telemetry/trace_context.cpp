#include "switchyard/telemetry/trace_context.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

namespace switchyard::telemetry {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// The spec's HEXDIGLC: lowercase only ("00-4BF9…" is invalid). -1 for anything else.
int lower_hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool decode_hex(std::string_view text, std::uint8_t* out) {
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = lower_hex_value(text[i]);
    const int lo = lower_hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    *out++ = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

// xoshiro256** (Blackman and Vigna, https://prng.di.unimi.it/): fast, 256 bits of state, good
// enough that ids from different threads and processes do not collide in practice. Ids are
// identifiers, not secrets, so a non-cryptographic generator is what OpenTelemetry SDKs use too.
class Xoshiro256 {
 public:
  Xoshiro256() {
    try {
      std::random_device device;
      for (auto& word : s_)
        word = static_cast<std::uint64_t>(device()) << 32 | static_cast<std::uint64_t>(device());
    } catch (...) {
      // No entropy source: the clock and this object's address still differ per thread.
      std::uint64_t x = static_cast<std::uint64_t>(
                            std::chrono::high_resolution_clock::now().time_since_epoch().count()) ^
                        reinterpret_cast<std::uintptr_t>(this);
      for (auto& word : s_) word = splitmix64(x);
    }
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;  // the one state it never leaves
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return x << k | x >> (64 - k); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

  std::uint64_t s_[4];
};

Xoshiro256& thread_rng() {
  thread_local Xoshiro256 rng;
  return rng;
}

// key = simple-key / multi-tenant-key (level 1, §3.3.1.3.1)
//   simple-key       = lcalpha 0*255( keychar )
//   multi-tenant-key = tenant-id "@" system-id
//   tenant-id        = ( lcalpha / DIGIT ) 0*240( keychar )
//   system-id        = lcalpha 0*13( keychar )
//   keychar          = lcalpha / DIGIT / "_" / "-" / "*" / "/"
bool is_lcalpha(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_keychar(char c) {
  return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}
bool all_keychars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_keychar);
}

bool valid_key(std::string_view key) {
  const std::size_t at = key.find('@');
  if (at == std::string_view::npos)
    return !key.empty() && key.size() <= 256 && is_lcalpha(key.front()) && all_keychars(key);
  const std::string_view tenant = key.substr(0, at);
  const std::string_view system = key.substr(at + 1);
  return !tenant.empty() && tenant.size() <= 241 &&
         (is_lcalpha(tenant.front()) || is_digit(tenant.front())) && all_keychars(tenant) &&
         !system.empty() && system.size() <= 14 && is_lcalpha(system.front()) &&
         all_keychars(system);
}

// value    = 0*255( chr ) nblk-chr
// chr      = %x20 / nblk-chr
// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E   (printable ASCII but ',' and '=')
bool valid_value(std::string_view value) {
  if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
  return std::all_of(value.begin(), value.end(),
                     [](char c) { return c >= 0x20 && c <= 0x7e && c != ',' && c != '='; });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

template <std::size_t N>
bool HexId<N>::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}
template <std::size_t N>
void HexId<N>::to_hex(char* out) const {
  for (const std::uint8_t b : bytes) {
    *out++ = kHexDigits[b >> 4];
    *out++ = kHexDigits[b & 0xF];
  }
}
template <std::size_t N>
std::string HexId<N>::hex() const {
  std::string s(kHexSize, '0');
  to_hex(s.data());
  return s;
}
template struct HexId<16>;
template struct HexId<8>;

std::uint64_t random_u64() {
  return thread_rng().next();
}

TraceId new_trace_id() {
  TraceId id;
  do {
    const std::uint64_t words[2] = {thread_rng().next(), thread_rng().next()};
    std::memcpy(id.bytes.data(), words, sizeof words);
  } while (id.is_zero());
  return id;
}

SpanId new_span_id() {
  SpanId id;
  do {
    const std::uint64_t word = thread_rng().next();
    std::memcpy(id.bytes.data(), &word, sizeof word);
  } while (id.is_zero());
  return id;
}

std::optional<TraceParent> parse_traceparent(std::string_view value) {
  // version "-" trace-id "-" parent-id "-" trace-flags, at these offsets in every version.
  constexpr std::size_t kTraceAt = 3, kParentAt = 36, kFlagsAt = 53;
  if (value.size() < kTraceParentSize) return std::nullopt;
  std::uint8_t version = 0;
  if (!decode_hex(value.substr(0, 2), &version) || version == 0xff) return std::nullopt;
  // Version 00 is exactly this long; a later version may append fields after another '-'
  // (§4.3: parse it as version 00 and ignore the rest).
  if (version == 0 && value.size() != kTraceParentSize) return std::nullopt;
  if (value.size() > kTraceParentSize && value[kTraceParentSize] != '-') return std::nullopt;
  if (value[kTraceAt - 1] != '-' || value[kParentAt - 1] != '-' || value[kFlagsAt - 1] != '-')
    return std::nullopt;

  TraceParent tp;
  if (!decode_hex(value.substr(kTraceAt, TraceId::kHexSize), tp.trace.bytes.data()) ||
      !decode_hex(value.substr(kParentAt, SpanId::kHexSize), tp.parent.bytes.data()) ||
      !decode_hex(value.substr(kFlagsAt, 2), &tp.flags))
    return std::nullopt;
  if (tp.trace.is_zero() || tp.parent.is_zero()) return std::nullopt;
  return tp;
}

std::array<char, kTraceParentSize> format_traceparent(const TraceId& trace, const SpanId& span,
                                                      std::uint8_t flags) {
  std::array<char, kTraceParentSize> out;
  char* p = out.data();
  *p++ = '0';
  *p++ = '0';
  *p++ = '-';
  trace.to_hex(p);
  p += TraceId::kHexSize;
  *p++ = '-';
  span.to_hex(p);
  p += SpanId::kHexSize;
  *p++ = '-';
  *p++ = kHexDigits[flags >> 4];
  *p = kHexDigits[flags & 0xF];
  return out;
}

bool valid_tracestate(std::string_view value) {
  constexpr std::size_t kMaxSize = 512;
  constexpr std::size_t kMaxMembers = 32;
  if (value.size() > kMaxSize) return false;
  std::array<std::string_view, kMaxMembers> keys;
  std::size_t count = 0;
  for (;;) {
    const std::size_t comma = value.find(',');
    const std::string_view member = trim_ows(value.substr(0, comma));
    // Empty and whitespace-only members are allowed (§3.3.1.1: joining several tracestate
    // fields can produce them) and do not count against the limit.
    if (!member.empty()) {
      if (count == kMaxMembers) return false;
      const std::size_t eq = member.find('=');
      if (eq == std::string_view::npos) return false;
      const std::string_view key = member.substr(0, eq);
      if (!valid_key(key) || !valid_value(member.substr(eq + 1))) return false;
      // A key twice makes the list ambiguous; OpenTelemetry's propagators drop such a header.
      if (std::find(keys.begin(), keys.begin() + count, key) != keys.begin() + count) return false;
      keys[count++] = key;
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return true;
}

}  // namespace switchyard::telemetry

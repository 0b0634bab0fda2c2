// W3C Trace Context (https://www.w3.org/TR/trace-context/, level 1): trace and span ids, the
// traceparent header a request arrives with and the one the gateway sends upstream, and the
// tracestate check that decides whether a client's tracestate is forwarded or dropped. Included
// by every area that makes or passes on spans, so it stays free of Asio and allocation-free
// apart from hex().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::telemetry {

// A trace id (16 bytes) or a span id (8 bytes): two sizes, two types that do not mix.
template <std::size_t N>
struct HexId {
  std::array<std::uint8_t, N> bytes{};

  static constexpr std::size_t kHexSize = 2 * N;
  bool is_zero() const;
  // Writes kHexSize lowercase hex digits (no terminator).
  void to_hex(char* out) const;
  std::string hex() const;
  bool operator==(const HexId&) const = default;
};
using TraceId = HexId<16>;
using SpanId = HexId<8>;
extern template struct HexId<16>;  // defined in trace_context.cpp
extern template struct HexId<8>;

// Random ids from a per-thread xoshiro256** seeded once per thread from std::random_device: no
// lock, no system call per id. Never all-zero (the spec's invalid value).
TraceId new_trace_id();
SpanId new_span_id();
// The same generator's next 64 bits, for other ids that need uniqueness, not secrecy (request ids).
std::uint64_t random_u64();

inline constexpr std::uint8_t kTraceFlagSampled = 0x01;

struct TraceParent {
  TraceId trace;
  SpanId parent;  // the caller's span: the parent of the gateway's server span
  std::uint8_t flags = 0;

  bool sampled() const { return (flags & kTraceFlagSampled) != 0; }
};

// "00-" + 32 + "-" + 16 + "-" + 2.
inline constexpr std::size_t kTraceParentSize = 55;

// Parses a traceparent field value (as the HTTP parser hands it over: surrounding whitespace
// already removed). nullopt for anything the spec says to ignore, after which the gateway
// starts a new trace: not lowercase hex, version ff, version 00 not exactly 55 characters, a
// later version shorter than 55 or not followed by '-', an all-zero trace id or parent id.
// A later version is read as version 00 (§4.3), so its flags are kept as they are.
std::optional<TraceParent> parse_traceparent(std::string_view value);

// A version-00 traceparent. `out` is not terminated.
std::array<char, kTraceParentSize> format_traceparent(const TraceId& trace, const SpanId& span,
                                                      std::uint8_t flags);

// Whether a tracestate field value (multiple fields already joined with ',') is well-formed:
// at most 512 characters and 32 non-empty list members; each member key=value with the spec's
// key and value grammar, whitespace around members allowed, empty members allowed, no key twice.
// The gateway forwards a valid tracestate unchanged and drops an invalid one.
bool valid_tracestate(std::string_view value);

}  // namespace switchyard::telemetry

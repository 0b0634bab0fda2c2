// Waiting between two tries of one target: the delay an upstream asked for (Retry-After and the
// providers' rate-limit reset headers), bounded. The backoff itself is switchyard/jitter.hpp.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace switchyard::dispatch {

using Millis = std::chrono::milliseconds;

// Looks up a response header by lower-case name; empty when absent.
using HeaderLookup = std::function<std::string_view(std::string_view)>;

// How long the upstream asked us to wait before the next request, from the first of:
// retry-after-ms; retry-after (delay-seconds or an HTTP date); the rate-limit reset headers —
// OpenAI's x-ratelimit-reset-{requests,tokens} (Go durations like "6m0s", "1.5s", "20ms"),
// Anthropic's anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset (RFC 3339
// times), and the IETF draft's ratelimit-reset (delay-seconds). Of several reset headers, the
// ones whose matching *-remaining header says 0 are the limits that were hit; the longest of
// those wins, or, when none says 0, the shortest reset of all. nullopt when nothing usable.
std::optional<Millis> upstream_retry_delay(const HeaderLookup& header,
                                           std::chrono::system_clock::time_point now);

// A Go time.Duration string as OpenAI sends it: "6m0s", "1.5s", "20ms", "1h2m3.5s", "0s".
std::optional<Millis> parse_go_duration(std::string_view text);
// An RFC 3339 date-time ("2024-05-01T12:00:30Z", "…+02:00", fractional seconds allowed).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace switchyard::dispatch

// How long an upstream asked to be left alone: `retry-after-ms` (OpenAI's and Anthropic's SDKs
// read it first), else `retry-after` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3; all
// three date formats of §5.6.7 are accepted, as recipients must). Pure: the caller passes now.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace switchyard::dispatch {

using std::chrono::milliseconds;

// The delay one header value asks for; nullopt when it is absent or unreadable. A date in the
// past is a zero delay.
std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now);
std::optional<milliseconds> parse_retry_after_ms(std::string_view value);

// An HTTP-date as a time point (IMF-fixdate, RFC 850, asctime), or nullopt.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

}  // namespace switchyard::dispatch

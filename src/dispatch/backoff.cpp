#include "switchyard/dispatch/backoff.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include "switchyard/dispatch/retry_after.hpp"

namespace switchyard::dispatch {

namespace {

using std::chrono::nanoseconds;
using std::chrono::system_clock;

// The same ceiling as retry_after.cpp: longer than anyone would wait, and far enough below
// INT64_MAX nanoseconds that the arithmetic here cannot overflow.
constexpr std::int64_t kMaxNanos = 1'000'000'000LL * 1'000'000'000LL;
constexpr Millis kMaxDelay{kMaxNanos / 1'000'000};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Exactly `s.size()` decimal digits, nothing else.
std::optional<int> fixed_digits(std::string_view s) {
  int n = 0;
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return s.empty() ? std::nullopt : std::optional<int>{n};
}

// Whole delay-seconds (the IETF draft's ratelimit-reset), capped like Retry-After.
std::optional<Millis> delay_seconds(std::string_view s) {
  s = trim(s);
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  // All digits, so parse_retry_after reads it as delay-seconds and never as a date.
  return parse_retry_after(s, system_clock::time_point{});
}

// A time until which to wait, as a delay from now; a time already past is no wait.
Millis until(system_clock::time_point when, system_clock::time_point now) {
  if (when <= now) return Millis{0};
  // Rounded up: waiting a fraction of a millisecond too little would meet the limit again.
  return std::min(std::chrono::ceil<Millis>(when - now), kMaxDelay);
}

// Of a *-remaining header: whether it says the limit is used up.
bool exhausted(std::string_view remaining) {
  remaining = trim(remaining);
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(remaining.data(), remaining.data() + remaining.size(), n);
  return !remaining.empty() && ec == std::errc{} && end == remaining.data() + remaining.size() &&
         n == 0;
}

enum class ResetFormat { go_duration, rfc3339, delay_seconds };

struct ResetHeader {
  std::string_view reset;
  std::string_view remaining;
  ResetFormat format;
};

// OpenAI: https://platform.openai.com/docs/guides/rate-limits (rate-limit headers).
// Anthropic: https://docs.anthropic.com/en/api/rate-limits (response headers).
// IETF: draft-ietf-httpapi-ratelimit-headers.
constexpr std::array<ResetHeader, 7> kResetHeaders{{
    {"x-ratelimit-reset-requests", "x-ratelimit-remaining-requests", ResetFormat::go_duration},
    {"x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens", ResetFormat::go_duration},
    {"anthropic-ratelimit-requests-reset", "anthropic-ratelimit-requests-remaining",
     ResetFormat::rfc3339},
    {"anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-tokens-remaining",
     ResetFormat::rfc3339},
    {"anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-input-tokens-remaining",
     ResetFormat::rfc3339},
    {"anthropic-ratelimit-output-tokens-reset", "anthropic-ratelimit-output-tokens-remaining",
     ResetFormat::rfc3339},
    {"ratelimit-reset", "ratelimit-remaining", ResetFormat::delay_seconds},
}};

std::optional<Millis> reset_delay(const ResetHeader& h, std::string_view value,
                                  system_clock::time_point now) {
  switch (h.format) {
    case ResetFormat::go_duration:
      return parse_go_duration(value);
    case ResetFormat::rfc3339:
      if (const auto when = parse_rfc3339(value)) return until(*when, now);
      return std::nullopt;
    case ResetFormat::delay_seconds:
      return delay_seconds(value);
  }
  return std::nullopt;
}

// Nanoseconds per Go duration unit; nullopt for anything else. Go accepts both spellings of µ.
std::optional<std::int64_t> go_unit(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" /* U+00B5 */ || unit == "\xCE\xBCs" /* U+03BC */)
    return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return std::nullopt;
}

}  // namespace

std::optional<Millis> parse_go_duration(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  // Go writes a zero duration as "0s" but accepts a bare "0". A negative wait means nothing.
  if (text == "0") return Millis{0};

  std::int64_t total = 0;  // nanoseconds, capped at kMaxNanos
  while (!text.empty()) {
    // [digits][.digits] — at least one digit on either side, as Go requires.
    std::size_t i = 0;
    std::uint64_t whole = 0;
    bool big = false;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      // whole ≤ kMaxNanos = 10^18 before this step, so the step itself cannot overflow.
      whole = whole * 10 + static_cast<std::uint64_t>(text[i] - '0');
      if (whole > static_cast<std::uint64_t>(kMaxNanos)) {
        big = true;
        whole = kMaxNanos;
      }
    }
    const bool had_whole = i > 0;
    std::uint64_t fraction = 0, scale = 1;
    bool had_fraction = false;
    if (i < text.size() && text[i] == '.') {
      for (++i; i < text.size() && is_digit(text[i]); ++i) {
        // Twelve digits resolve a nanosecond even of an hour; the rest are read and ignored.
        if (scale < 1'000'000'000'000ULL) {
          fraction = fraction * 10 + static_cast<std::uint64_t>(text[i] - '0');
          scale *= 10;
        }
        had_fraction = true;
      }
    }
    if (!had_whole && !had_fraction) return std::nullopt;
    std::size_t u = i;
    while (u < text.size() && !is_digit(text[u]) && text[u] != '.') ++u;
    const auto unit = go_unit(text.substr(i, u - i));
    if (!unit) return std::nullopt;
    text.remove_prefix(u);

    const auto unit_ns = static_cast<std::uint64_t>(*unit);
    if (big || whole > static_cast<std::uint64_t>(kMaxNanos) / unit_ns) {
      total = kMaxNanos;
      continue;
    }
    // fraction < scale ≤ 10^12 and unit_ns ≤ 3.6·10^12: the product needs a wider type than
    // 64 bits. long double is off by far less than a nanosecond, and the truncation below never
    // rounds up, so an exact number of milliseconds stays exact through the ceil at the end.
    const auto part = static_cast<std::int64_t>(whole * unit_ns) +
                      static_cast<std::int64_t>(static_cast<long double>(fraction) *
                                                static_cast<long double>(unit_ns) /
                                                static_cast<long double>(scale));
    total = std::min(kMaxNanos, total + part);
  }
  // Rounded up, like every wait here: a fraction of a millisecond too early meets the limit.
  return std::chrono::ceil<Millis>(nanoseconds{total});
}

std::optional<system_clock::time_point> parse_rfc3339(std::string_view text) {
  text = trim(text);
  // "YYYY-MM-DDTHH:MM:SS" is 19 characters, then an optional fraction and the offset.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  // RFC 3339 §5.6 allows a lower-case t and z, and (in a note) a space between date and time.
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return std::nullopt;
  const auto year = fixed_digits(text.substr(0, 4)), month = fixed_digits(text.substr(5, 2)),
             day = fixed_digits(text.substr(8, 2)), hour = fixed_digits(text.substr(11, 2)),
             minute = fixed_digits(text.substr(14, 2)), second = fixed_digits(text.substr(17, 2));
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  // A leap second (:60) is allowed by the grammar; it is read as the next second's start.
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{*year},
                                         std::chrono::month{static_cast<unsigned>(*month)},
                                         std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok()) return std::nullopt;

  std::string_view rest = text.substr(19);
  nanoseconds fraction{0};
  if (rest.front() == '.') {
    rest.remove_prefix(1);
    std::size_t n = 0;
    std::int64_t ns = 0, scale = 1'000'000'000;
    while (n < rest.size() && is_digit(rest[n])) {
      // Digits past the nanosecond are read and dropped.
      if (scale > 1) {
        scale /= 10;
        ns += (rest[n] - '0') * scale;
      }
      ++n;
    }
    if (n == 0) return std::nullopt;
    fraction = nanoseconds{ns};
    rest.remove_prefix(n);
  }

  std::chrono::minutes offset{0};  // "Z"
  if (rest != "Z" && rest != "z") {
    if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':')
      return std::nullopt;
    const auto oh = fixed_digits(rest.substr(1, 2)), om = fixed_digits(rest.substr(4, 2));
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset = std::chrono::minutes{*oh * 60 + *om};
    if (rest[0] == '-') offset = -offset;
  }
  // The local time minus its offset from UTC is UTC.
  const auto local = std::chrono::sys_days{date} + std::chrono::hours{*hour} +
                     std::chrono::minutes{*minute} + std::chrono::seconds{*second} + fraction;
  return std::chrono::time_point_cast<system_clock::duration>(local - offset);
}

std::optional<Millis> upstream_retry_delay(const HeaderLookup& header,
                                           system_clock::time_point now) {
  // retry-after-ms first, as OpenAI's and Anthropic's SDKs read it: it is the more precise.
  if (const auto ms = parse_retry_after_ms(header("retry-after-ms")); ms) return *ms;
  if (const auto delay = parse_retry_after(header("retry-after"), now); delay) return *delay;

  // A reset header says when one limit refills, whether or not that limit was hit. The limits
  // whose remaining count is 0 are the ones that refused us, and all of them must refill, so
  // the longest of those; with none at 0 (a limit we cannot see, e.g. a concurrency cap) the
  // soonest refill is the best guess.
  std::optional<Millis> longest_exhausted, shortest;
  for (const ResetHeader& h : kResetHeaders) {
    const std::string_view value = header(h.reset);
    if (value.empty()) continue;
    const auto delay = reset_delay(h, value, now);
    if (!delay) continue;
    if (exhausted(header(h.remaining)))
      longest_exhausted = std::max(longest_exhausted.value_or(Millis{0}), *delay);
    shortest = shortest ? std::min(*shortest, *delay) : *delay;
  }
  return longest_exhausted ? longest_exhausted : shortest;
}

}  // namespace switchyard::dispatch

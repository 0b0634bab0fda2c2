#include "switchyard/dispatch/retry_after.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

namespace switchyard::dispatch {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Longer than anyone would wait; keeps the arithmetic below far from overflow.
constexpr std::uint64_t kMaxSeconds = 1'000'000'000;

// A whole unsigned decimal number, nothing else.
std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || end != s.data() + s.size()) return std::nullopt;
  // Too many digits for 64 bits is still a number: the caller caps it.
  if (ec == std::errc::result_out_of_range) return UINT64_MAX;
  if (ec != std::errc{}) return std::nullopt;
  return n;
}

int month_of(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kMonths{
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int m = 0; m < 12; ++m)
    if (name == kMonths[static_cast<std::size_t>(m)]) return m + 1;
  return 0;
}

// "08:49:37" → seconds of the day.
std::optional<int> time_of_day(std::string_view s) {
  if (s.size() != 8 || s[2] != ':' || s[5] != ':') return std::nullopt;
  const auto h = number(s.substr(0, 2)), m = number(s.substr(3, 2)), sec = number(s.substr(6, 2));
  if (!h || !m || !sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return static_cast<int>(*h * 3600 + *m * 60 + *sec);
}

std::optional<std::chrono::system_clock::time_point> at(int year, int month, int day, int seconds) {
  using namespace std::chrono;
  // The clock counts nanoseconds in 64 bits, about 292 years either side of 1970: a year outside
  // these is not a date an upstream means, and would overflow the conversion.
  if (year < 1900 || year > 2200) return std::nullopt;
  const year_month_day date{std::chrono::year{year},
                            std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  return sys_days{date} + std::chrono::seconds{seconds};
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  text = trim(text);
  const std::size_t comma = text.find(',');
  if (comma != std::string_view::npos) {
    std::string_view rest = trim(text.substr(comma + 1));
    if (rest.size() == 24 && rest[2] == ' ' && rest[6] == ' ' && rest[11] == ' ' &&
        rest.substr(20) == " GMT") {
      // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
      const auto day = number(rest.substr(0, 2)), year = number(rest.substr(7, 4));
      const auto secs = time_of_day(rest.substr(12, 8));
      const int month = month_of(rest.substr(3, 3));
      if (!day || !year || !secs || !month) return std::nullopt;
      return at(static_cast<int>(*year), month, static_cast<int>(*day), *secs);
    }
    if (rest.size() == 22 && rest[2] == '-' && rest[6] == '-' && rest[9] == ' ' &&
        rest.substr(18) == " GMT") {
      // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years are read as the nearest
      // century, as RFC 9110 advises for the past 50 years.
      const auto day = number(rest.substr(0, 2)), yy = number(rest.substr(7, 2));
      const auto secs = time_of_day(rest.substr(10, 8));
      const int month = month_of(rest.substr(3, 3));
      if (!day || !yy || !secs || !month) return std::nullopt;
      const int year = static_cast<int>(*yy) + (*yy < 70 ? 2000 : 1900);
      return at(year, month, static_cast<int>(*day), *secs);
    }
    return std::nullopt;
  }
  // asctime: "Sun Nov  6 08:49:37 1994".
  if (text.size() == 24 && text[3] == ' ' && text[7] == ' ' && text[10] == ' ' && text[19] == ' ') {
    std::string_view day_text = text.substr(8, 2);
    if (day_text.front() == ' ') day_text.remove_prefix(1);
    const auto day = number(day_text), year = number(text.substr(20, 4));
    const auto secs = time_of_day(text.substr(11, 8));
    const int month = month_of(text.substr(4, 3));
    if (!day || !year || !secs || !month) return std::nullopt;
    return at(static_cast<int>(*year), month, static_cast<int>(*day), *secs);
  }
  return std::nullopt;
}

std::optional<milliseconds> parse_retry_after_ms(std::string_view value) {
  value = trim(value);
  // Fractions are allowed ("1500.5"): the whole milliseconds are enough.
  const std::size_t dot = value.find('.');
  const auto ms = number(value.substr(0, dot));
  if (!ms || (dot != std::string_view::npos && !number(value.substr(dot + 1)))) return std::nullopt;
  return milliseconds{static_cast<milliseconds::rep>(std::min(*ms, kMaxSeconds * 1000))};
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (const auto seconds = number(value))
    return milliseconds{static_cast<milliseconds::rep>(std::min(*seconds, kMaxSeconds)) * 1000};
  const auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  if (*when <= now) return milliseconds{0};
  return std::chrono::duration_cast<milliseconds>(*when - now);
}

}  // namespace switchyard::dispatch

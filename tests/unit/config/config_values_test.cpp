// The scalar grammars of the config file, by table: durations, sizes, upstream URLs and the
// hosts to which plain http is acceptable.
#include <gtest/gtest.h>

#include <cstddef>
#include <limits>
#include <string>

#include "switchyard/config/config.hpp"

namespace switchyard::config {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsUnitsDecimalsAndBareSeconds) {
  const struct {
    const char* text;
    long long ms;
  } cases[] = {
      {"250ms", 250}, {"2s", 2'000},      {"1m", 60'000},  {"1h", 3'600'000},    {"30", 30'000},
      {"0", 0},       {"0s", 0},          {"1.5s", 1'500}, {"0.25", 250},        {"1.5m", 90'000},
      {"0.5ms", 1},   {"2.0005s", 2'001}, {"1.1s", 1'100}, {"48h", 172'800'000}, {"007s", 7'000},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_duration(c.text), milliseconds(c.ms)) << c.text;
  }
}

TEST(ParseDuration, RejectsNegativesGarbageAndAbsurdValues) {
  for (const char* text :
       {"",          "-1s", "-1",  "+1s", "s",     "1x",   "1 s",
        " 1s",       "1s ", "1.s", ".5s", "1..5s", "1sec", "1S",
        "1d",        "abc", "1e3", "nan", "inf",   "1ms5", "99999999999999999999s",
        "400000000h"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(ParseSize, AcceptsBinaryAndDecimalUnitsAndBareBytes) {
  const struct {
    const char* text;
    std::size_t bytes;
  } cases[] = {
      {"512", 512},
      {"0", 0},
      {"512B", 512},
      {"1KB", 1'000},
      {"1MB", 1'000'000},
      {"1GB", 1'000'000'000},
      {"16KiB", 16 * 1024},
      {"8MiB", 8 * 1024 * 1024},
      {"1GiB", std::size_t{1} << 30},
      {"2TiB", std::size_t{2} << 40},
      {"8mib", 8 * 1024 * 1024},
      {"4kb", 4'000},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parse_size(c.text), c.bytes) << c.text;
  }
}

TEST(ParseSize, RejectsGarbageFractionsNegativesAndOverflow) {
  for (const char* text : {"", "MiB", "-1", "+1", "1.5MiB", "8 MiB", "8Mi", "8MiBs", "1e6", "lots",
                           "99999999999999999999", "20000000TiB"}) {
    EXPECT_EQ(parse_size(text), std::nullopt) << text;
  }
}

TEST(ParseUrl, SplitsHostPortPathAndAuthority) {
  const struct {
    const char* text;
    bool tls;
    const char* host;
    std::uint16_t port;
    const char* path;
    const char* authority;
  } cases[] = {
      {"https://api.openai.com/v1", true, "api.openai.com", 443, "/v1", "api.openai.com"},
      {"https://api.openai.com/v1/", true, "api.openai.com", 443, "/v1", "api.openai.com"},
      {"https://api.openai.com", true, "api.openai.com", 443, "", "api.openai.com"},
      {"https://api.openai.com/", true, "api.openai.com", 443, "", "api.openai.com"},
      {"http://127.0.0.1:9001", false, "127.0.0.1", 9001, "", "127.0.0.1:9001"},
      {"http://localhost:80/x/y", false, "localhost", 80, "/x/y", "localhost"},
      {"https://host:443", true, "host", 443, "", "host"},
      {"https://host:8443/openai/v1", true, "host", 8443, "/openai/v1", "host:8443"},
      {"http://host:443", false, "host", 443, "", "host:443"},
      {"HTTPS://API.Example.COM/V1", true, "api.example.com", 443, "/V1", "api.example.com"},
      {"http://[::1]:8000/v1", false, "::1", 8000, "/v1", "[::1]:8000"},
      {"https://[2001:db8::1]", true, "2001:db8::1", 443, "", "[2001:db8::1]"},
  };
  for (const auto& c : cases) {
    const auto url = parse_url(c.text);
    ASSERT_TRUE(url.has_value()) << c.text << ": " << (url ? "" : url.error());
    EXPECT_EQ(url->tls, c.tls) << c.text;
    EXPECT_EQ(url->host, c.host) << c.text;
    EXPECT_EQ(url->port, c.port) << c.text;
    EXPECT_EQ(url->path, c.path) << c.text;
    EXPECT_EQ(url->authority, c.authority) << c.text;
  }
}

TEST(ParseUrl, ExplainsWhyAUrlIsRejected) {
  const struct {
    const char* text;
    const char* why;
  } cases[] = {
      {"api.openai.com/v1", "expected a URL starting with http:// or https://"},
      {"ftp://example.com", "scheme must be http or https, got 'ftp'"},
      {"https://", "missing host"},
      {"https:///v1", "missing host"},
      {"https://:8080", "missing host"},
      {"https://example.com:0", "port must be 1..65535, got '0'"},
      {"https://example.com:65536", "port must be 1..65535, got '65536'"},
      {"https://example.com:", "port must be 1..65535, got ''"},
      {"https://example.com:8o", "port must be 1..65535, got '8o'"},
      {"https://user:secret@example.com",
       "user info (user:password@) is not allowed; put "
       "credentials in api_key"},
      {"https://example.com/v1?key=1", "a query string is not allowed"},
      {"https://example.com?key=1", "a query string is not allowed"},
      {"https://example.com/v1#x", "a fragment is not allowed"},
      {"https://exa mple.com", "must not contain spaces or control characters"},
      {"https://ex!ample.com", "invalid host 'ex!ample.com'"},
      {"https://a..b", "invalid host 'a..b'"},
      {"http://::1:8000", "IPv6 addresses must be in brackets, as in http://[::1]:8000"},
      {"http://[::1", "unterminated '[' in IPv6 host"},
      {"http://[nope]:80", "invalid IPv6 address 'nope'"},
      {"http://[::1]x", "unexpected text after ']'"},
  };
  for (const auto& c : cases) {
    const auto url = parse_url(c.text);
    ASSERT_FALSE(url) << c.text;
    EXPECT_EQ(url.error(), c.why) << c.text;
  }
  // The reason never repeats credentials.
  const auto url = parse_url("https://user:secret@example.com");
  ASSERT_FALSE(url);
  EXPECT_EQ(url.error().find("secret"), std::string::npos);
}

TEST(IsLocalHost, AcceptsLoopbackPrivateLinkLocalAndInternalNames) {
  for (const char* host : {"127.0.0.1",      "127.255.0.9",      "10.0.0.1",         "172.16.0.1",
                           "172.31.255.255", "192.168.1.10",     "169.254.169.254",  "::1",
                           "[::1]",          "fe80::1",          "febf::1",          "fc00::1",
                           "fd12:3456::1",   "::ffff:127.0.0.1", "::ffff:10.1.2.3",  "localhost",
                           "LOCALHOST",      "localhost.",       "api.localhost",    "mock",
                           "ollama",         "printer.local",    "llm.svc.internal", "127.1",
                           "2130706433"}) {
    EXPECT_TRUE(is_local_host(host)) << host;
  }
}

TEST(IsLocalHost, RejectsPublicAddressesAndNames) {
  for (const char* host : {"", "8.8.8.8", "172.15.0.1", "172.32.0.1", "192.169.0.1", "169.253.0.1",
                           "11.0.0.1", "0.0.0.0", "2001:db8::1", "fec0::1", "fe7f::1",
                           "::ffff:8.8.8.8", "::", "api.openai.com", "localhost.example.com",
                           "internal.example.com", "a.local.com", "134744072", "not:an:address"}) {
    EXPECT_FALSE(is_local_host(host)) << host;
  }
}

}  // namespace
}  // namespace switchyard::config

// Reading the redis:// URL of the configuration, and what of it may reach a log.
#include <gtest/gtest.h>

#include <string>

#include "switchyard/config/redis_url.hpp"
#include "switchyard/redis/client.hpp"

namespace switchyard::redis {
namespace {

config::RedisUrl parsed(const std::string& text) {
  const auto url = config::RedisUrl::parse(text);
  EXPECT_TRUE(url) << text << ": " << (url ? "" : url.error());
  return url ? *url : config::RedisUrl{};
}

// The message for a URL that must be refused.
std::string refusal(const std::string& text) {
  const auto url = config::RedisUrl::parse(text);
  EXPECT_FALSE(url) << text;
  const std::string why = url ? "" : url.error();
  EXPECT_EQ(why.rfind("redis URL '", 0), 0u) << why;
  return why;
}

TEST(RedisUrl, ReadsHostPortAndDatabase) {
  const config::RedisUrl url = parsed("redis://cache.internal:6380/2");
  EXPECT_EQ(url.host, "cache.internal");
  EXPECT_EQ(url.port, 6380);
  EXPECT_EQ(url.db, 2);
  EXPECT_EQ(url.user, "");
  EXPECT_EQ(url.password, "");
}

TEST(RedisUrl, DefaultsToPort6379AndDatabase0) {
  for (const char* text : {"redis://localhost", "redis://localhost/", "REDIS://localhost"}) {
    const config::RedisUrl url = parsed(text);
    EXPECT_EQ(url.host, "localhost") << text;
    EXPECT_EQ(url.port, 6379) << text;
    EXPECT_EQ(url.db, 0) << text;
  }
}

TEST(RedisUrl, ReadsAPasswordWithoutAUser) {
  const config::RedisUrl url = parsed("redis://:s3cret@127.0.0.1:6379");
  EXPECT_EQ(url.user, "");
  EXPECT_EQ(url.password, "s3cret");
  EXPECT_EQ(url.host, "127.0.0.1");
}

TEST(RedisUrl, ReadsAnAclUserAndPassword) {
  const config::RedisUrl url = parsed("redis://gateway:s3cret@redis:6379/1");
  EXPECT_EQ(url.user, "gateway");
  EXPECT_EQ(url.password, "s3cret");
  EXPECT_EQ(url.host, "redis");
  EXPECT_EQ(url.db, 1);
}

TEST(RedisUrl, DecodesAPercentEncodedPassword) {
  EXPECT_EQ(parsed("redis://:p%40ss%3Aw%2Frd%25@host").password, "p@ss:w/rd%");
  // An '@' left unencoded still belongs to the password: the host starts after the last one.
  const config::RedisUrl url = parsed("redis://:p@ss@host:7000");
  EXPECT_EQ(url.password, "p@ss");
  EXPECT_EQ(url.host, "host");
  EXPECT_EQ(url.port, 7000);
  EXPECT_NE(refusal("redis://:bad%zzencoding@host").find("percent-encoding"), std::string::npos);
}

TEST(RedisUrl, ReadsABracketedIpv6Address) {
  const config::RedisUrl url = parsed("redis://[::1]:7000/3");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 7000);
  EXPECT_EQ(url.db, 3);
  EXPECT_EQ(url.redacted(), "redis://[::1]:7000/3");
  EXPECT_EQ(parsed("redis://[::1]").port, 6379);
  EXPECT_NE(refusal("redis://::1:7000").find("brackets"), std::string::npos);
}

TEST(RedisUrl, RefusesRedissBecauseHiredisHasNoTls) {
  const std::string why = refusal("rediss://:s3cret@cache.example.com:6380");
  EXPECT_NE(why.find("TLS"), std::string::npos) << why;
  EXPECT_NE(why.find("hiredis (0.14)"), std::string::npos) << why;
  EXPECT_EQ(why.find("s3cret"), std::string::npos) << why;
}

TEST(RedisUrl, RefusesOtherSchemes) {
  EXPECT_NE(refusal("http://localhost:6379").find("unsupported scheme 'http'"), std::string::npos);
  EXPECT_NE(refusal("localhost:6379").find("expected redis://"), std::string::npos);
  EXPECT_NE(refusal("").find("expected redis://"), std::string::npos);
}

TEST(RedisUrl, RefusesBadPorts) {
  for (const char* text : {"redis://host:0", "redis://host:65536", "redis://host:http",
                           "redis://host:-1", "redis://host:99999999999999999999"}) {
    EXPECT_NE(refusal(text).find("bad port"), std::string::npos) << text;
  }
  EXPECT_NE(refusal("redis://host:").find("empty port"), std::string::npos);
}

TEST(RedisUrl, RefusesBadDatabases) {
  for (const char* text : {"redis://host/x", "redis://host/-1", "redis://host/1/2"})
    EXPECT_NE(refusal(text).find("bad database"), std::string::npos) << text;
}

TEST(RedisUrl, RefusesWhatItWouldHaveToGuess) {
  EXPECT_NE(refusal("redis://").find("no host"), std::string::npos);
  EXPECT_NE(refusal("redis://:pw@:6379").find("no host"), std::string::npos);
  EXPECT_NE(refusal("redis://s3cret@host").find("ambiguous"), std::string::npos);
  EXPECT_NE(refusal("redis://user:@host").find("needs a password"), std::string::npos);
  EXPECT_NE(refusal("redis://host/0?timeout=1").find("query"), std::string::npos);
}

TEST(RedisUrl, RedactedHidesThePassword) {
  EXPECT_EQ(parsed("redis://gateway:s3cret@cache:6380/2").redacted(),
            "redis://gateway:***@cache:6380/2");
  EXPECT_EQ(parsed("redis://:s3cret@cache").redacted(), "redis://:***@cache:6379");
  EXPECT_EQ(parsed("redis://cache").redacted(), "redis://cache:6379");
}

TEST(RedisUrl, RefusalsNeverRepeatThePassword) {
  for (const char* text : {"redis://:s3cret@host:99999", "redis://user:s3cret@host/x",
                           "redis://:s3cret@", "rediss://:s3cret@host", "redis://:s3cret@host?x"}) {
    const auto url = config::RedisUrl::parse(text);
    ASSERT_FALSE(url) << text;
    const std::string& why = url.error();
    EXPECT_EQ(why.find("s3cret"), std::string::npos) << why;
    EXPECT_NE(why.find("***"), std::string::npos) << why;
  }
}

TEST(RedisScript, IsNamedByTheSha1RedisComputes) {
  // What SCRIPT LOAD "return 1" answers.
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(Script("return 1").text(), "return 1");
}

}  // namespace
}  // namespace switchyard::redis

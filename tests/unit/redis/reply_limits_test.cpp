// The bound on what hiredis may build from a Redis server's reply, on hiredis's own reader.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>

#include "switchyard/redis/reply_limits.hpp"

namespace switchyard::redis {
namespace {

// Feeds `wire` to a bounded reader: the reply's element count, -1 for a protocol error.
long long elements_read(const std::string& wire) {
  redisReader* reader = redisReaderCreate();
  bound_replies(reader);
  redisReaderFeed(reader, wire.data(), wire.size());
  void* reply = nullptr;
  long long elements = -1;
  if (redisReaderGetReply(reader, &reply) == REDIS_OK && reply) {
    elements = static_cast<long long>(static_cast<redisReply*>(reply)->elements);
    freeReplyObject(reply);
  }
  redisReaderFree(reader);
  return elements;
}

TEST(ReplyLimits, AnArrayPastTheBoundIsAProtocolErrorBeforeAnythingIsAllocated) {
  // Without the bound, hiredis would allocate 1.7 GB for this header alone.
  EXPECT_EQ(elements_read("*222222223\r\n"), -1);
  EXPECT_EQ(elements_read("*" + std::to_string(kMaxReplyElements + 1) + "\r\n"), -1);
  // Nested, too.
  EXPECT_EQ(elements_read("*1\r\n*222222223\r\n"), -1);
}

TEST(ReplyLimits, RepliesWithinTheBoundReadAsBefore) {
  EXPECT_EQ(elements_read("*3\r\n:1\r\n$2\r\nok\r\n*0\r\n"), 3);
  EXPECT_EQ(elements_read("*0\r\n"), 0);
}

}  // namespace
}  // namespace switchyard::redis

// What the gateway lets hiredis build from a Redis server's reply. hiredis 0.14 allocates an
// array's table of elements as soon as it has read the count: "*222222223\r\n" from a server — a
// compromised one, or anything in the path of a connection without TLS — takes 1.7 GB before a
// single element arrives (found by tests/fuzz/redis_fuzz). A bounded reader fails such a reply
// as it would a protocol error: the connection is dropped and made again.
#pragma once

#include <cstddef>

struct redisReader;  // hiredis

namespace switchyard::redis {

// Far above any reply the gateway asks for (a hash of provider health, a stream's kept events).
inline constexpr std::size_t kMaxReplyElements = std::size_t{1} << 20;

// Makes `reader` refuse an array (or a nested one) of more than kMaxReplyElements.
void bound_replies(redisReader* reader);

}  // namespace switchyard::redis

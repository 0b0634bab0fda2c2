// What is read back from Redis: the server's bytes through hiredis's reader, fed in pieces as
// the socket gives them, into the gateway's copy of each reply; and every string in a reply as a
// response-cache entry (what a GET of a cached answer returns), which a damaged one must not get
// past.
#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "switchyard/api/json.hpp"
#include "switchyard/cache/entry.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/redis/reply_limits.hpp"

using namespace switchyard;

namespace {

bool same(const redis::Reply& copy, const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR: {
      const auto type = r.type == REDIS_REPLY_STRING   ? redis::Reply::Type::string
                        : r.type == REDIS_REPLY_STATUS ? redis::Reply::Type::status
                                                       : redis::Reply::Type::error;
      return copy.type == type && copy.str == std::string_view(r.str, r.len);
    }
    case REDIS_REPLY_INTEGER:
      return copy.type == redis::Reply::Type::integer && copy.integer == r.integer;
    case REDIS_REPLY_ARRAY:
      if (copy.type != redis::Reply::Type::array || copy.elements.size() != r.elements)
        return false;
      for (std::size_t i = 0; i < r.elements; ++i)
        if (!same(copy.elements[i], *r.element[i])) return false;
      return true;
    default:
      return copy.type == redis::Reply::Type::nil;
  }
}

// A string reply as a cached answer read from Redis.
void read_as_cache_entry(std::string_view text) {
  const auto entry = cache::decode_entry(text, cache::EntryOrigin::redis);
  if (!entry) return;
  // What was decoded, written again, reads back the same.
  const std::string again =
      cache::encode_entry(entry->provider, entry->model, entry->upstream, entry->completion);
  const auto reread = cache::decode_entry(again, cache::EntryOrigin::this_process);
  SWITCHYARD_FUZZ_REQUIRE(reread && reread->provider == entry->provider &&
                          reread->model == entry->model && reread->upstream == entry->upstream &&
                          reread->completion == entry->completion);
  const auto shown = cache::with_model(entry->completion, "shown-model", cache::EntryOrigin::redis);
  // A completion that passed validation is still JSON with the model put in.
  if (shown) SWITCHYARD_FUZZ_REQUIRE(!api::json::validate(*shown), *shown);
}

void read_strings(const redis::Reply& reply) {
  if (reply.type == redis::Reply::Type::string) read_as_cache_entry(reply.str);
  for (const auto& element : reply.elements) read_strings(element);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const std::size_t piece = 1 + input.choose(64);
  const std::string_view wire = input.rest();
  redisReader* reader = redisReaderCreate();
  redis::bound_replies(reader);  // as every connection's reader is
  bool failed = false;
  for (std::size_t at = 0; at < wire.size() && !failed; at += piece) {
    const std::string_view chunk = wire.substr(at, piece);
    if (redisReaderFeed(reader, chunk.data(), chunk.size()) != REDIS_OK) break;
    for (;;) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
        failed = true;  // a protocol error: the client drops the connection
        break;
      }
      if (!reply) break;  // needs more bytes
      const auto& r = *static_cast<const redisReply*>(reply);
      const redis::Reply copy = redis::copy_reply(r);
      SWITCHYARD_FUZZ_REQUIRE(same(copy, r));
      freeReplyObject(reply);
      read_strings(copy);
    }
  }
  redisReaderFree(reader);
  return 0;
}

// The readers of a client's request body — chat completions, embeddings, Anthropic's Messages
// (and count_tokens) — and the cache key of a chat request: any bytes get a value or an
// OpenAI-shaped error, never a crash; an accepted chat request has a key or a reason it has none.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/embeddings_request.hpp"
#include "switchyard/api/messages_request.hpp"
#include "switchyard/cache/key.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const std::size_t reader = input.choose(4);
  const std::string_view body = input.rest();
  switch (reader) {
    case 0: {
      const auto chat = api::parse_chat_request(body);
      if (!chat) {
        SWITCHYARD_FUZZ_REQUIRE(chat.error().status / 100 == 4);
        break;
      }
      const auto key = cache::cache_key(body, "route", cache::KeyPolicy{1.0});
      SWITCHYARD_FUZZ_REQUIRE(key.cacheable() ? key.key.size() == 64 : key.key.empty());
      break;
    }
    case 1: {
      const auto embeddings = api::parse_embeddings_request(body);
      if (!embeddings) SWITCHYARD_FUZZ_REQUIRE(embeddings.error().status / 100 == 4);
      break;
    }
    default: {
      const auto kind = reader == 2 ? api::MessagesBody::message : api::MessagesBody::count_tokens;
      const auto messages = api::parse_messages_request(body, kind);
      if (!messages) SWITCHYARD_FUZZ_REQUIRE(messages.error().status / 100 == 4);
      break;
    }
  }
  return 0;
}

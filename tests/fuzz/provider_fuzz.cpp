// What each provider adapter reads from an upstream — a 2xx body, an error body, an event stream,
// for chat completions, embeddings and the Messages door — given any bytes: an answer or a
// classified error with an HTTP error status, never a crash, and a stream always ends. (An upstream
// that echoes the provider's key has it redacted by the dispatcher, not here: tested end to end by
// Secrets.NoConfiguredSecretAppearsInAnyOutput.)
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_input.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/upstream/sse.hpp"

using namespace switchyard;

namespace {

struct Target {
  config::Provider provider;
  config::Model model;
  std::unique_ptr<providers::Adapter> adapter;

  explicit Target(config::ProviderType type) {
    provider.name = "up";
    provider.type = type;
    provider.base_url = {true, "upstream.test", 443, "", "upstream.test"};
    provider.api_key = "sk-fuzz-provider-key";
    model.name = "alias";
    model.upstream = "upstream-model";
    adapter = providers::make_adapter(provider);
  }
  providers::Call call(bool stream) const {
    providers::Call c{provider, model, "\"upstream-model\"", "req_fuzz", "", "client-model"};
    c.created = 1700000000;
    c.stream = stream;
    c.include_usage = true;
    return c;
  }
};

void check(const providers::ProviderError& e) {
  SWITCHYARD_FUZZ_REQUIRE(e.error.status >= 400 && e.error.status <= 599,
                          std::to_string(e.error.status) + " " + e.error.message);
}

template <class Decoded>
void check(const Decoded& result) {
  if (!result) check(result.error());
}

void stream(providers::ChatStream& decoder, std::string_view upstream, std::size_t step) {
  upstream::SseParser sse;
  std::string out;
  auto state = providers::ChatStream::State::open;
  for (std::size_t at = 0; at < upstream.size() && state == providers::ChatStream::State::open;
       at += step) {
    sse.feed(upstream.substr(at, step));
    state = providers::pump(decoder, sse, out, false);
    sse.discard_consumed();
  }
  if (state == providers::ChatStream::State::open) state = providers::pump(decoder, sse, out, true);
  SWITCHYARD_FUZZ_REQUIRE(state != providers::ChatStream::State::open);
  if (state == providers::ChatStream::State::failed) check(decoder.error());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Target targets[] = {
      Target(config::ProviderType::openai), Target(config::ProviderType::anthropic),
      Target(config::ProviderType::gemini), Target(config::ProviderType::azure)};
  fuzz::Input input(data, size);
  const Target& target = targets[input.choose(std::size(targets))];
  const std::size_t operation = input.choose(7);
  const int status = 400 + static_cast<int>(input.choose(200));
  const std::size_t step = 1 + input.choose(64);
  const std::string_view bytes = input.rest();
  const auto& adapter = *target.adapter;
  providers::Usage usage;
  std::string body(bytes);
  switch (operation) {
    case 0:
      check(adapter.decode_chat(body, target.call(false), usage));
      break;
    case 1:
      check(adapter.decode_error(status, bytes));
      break;
    case 2: {
      const auto call = target.call(true);
      stream(*adapter.chat_stream(call), bytes, step);
      break;
    }
    case 3:
      check(adapter.decode_embeddings(body, target.call(false), usage));
      break;
    case 4:
      check(adapter.decode_messages(body, target.call(false), usage));
      break;
    case 5: {
      const auto call = target.call(true);
      stream(*adapter.messages_stream(call), bytes, step);
      break;
    }
    default:
      check(providers::anthropic_as_openai(bytes, step % 2 == 0, target.call(step % 2 == 0)));
  }
  return 0;
}

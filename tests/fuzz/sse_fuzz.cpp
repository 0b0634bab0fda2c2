// The SSE framing every streamed answer goes through: bytes arriving in any pieces give the same
// events as all at once, and each event's bytes are a piece of the input.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "switchyard/upstream/sse.hpp"

using namespace switchyard;

namespace {

struct Event {
  std::string raw, data, name;
  bool has_data;
  bool operator==(const Event&) const = default;
};

// The events, or nothing when a partial event outgrew the limit (the relay then gives up on the
// stream).
std::optional<std::vector<Event>> events_of(std::string_view stream, std::size_t step) {
  std::vector<Event> events;
  upstream::SseParser sse(4096);
  const auto take = [&](const upstream::SseEvent& e) {
    SWITCHYARD_FUZZ_REQUIRE(!e.raw.empty() && stream.find(e.raw) != std::string_view::npos);
    events.push_back(
        Event{std::string(e.raw), std::string(e.data), std::string(e.name), e.has_data});
  };
  for (std::size_t at = 0; at < stream.size(); at += step) {
    sse.feed(stream.substr(at, step));
    while (auto e = sse.next()) take(*e);
    sse.discard_consumed();
    if (sse.overflowed()) return std::nullopt;
  }
  if (auto e = sse.finish()) take(*e);
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const std::size_t step = 1 + input.choose(64);
  const std::string_view stream = input.rest();
  const auto whole = events_of(stream, stream.size() + 1);
  const auto pieces = events_of(stream, step);
  // An overflow can come earlier in pieces (a partial event outgrows the limit before the rest
  // arrives), so only complete runs are compared.
  if (whole && pieces) SWITCHYARD_FUZZ_REQUIRE(*whole == *pieces);
  return 0;
}

// The small readers of header and configuration values: Retry-After (seconds or any of HTTP's
// three date formats), retry-after-ms, durations, sizes and URLs.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/dispatch/retry_after.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const std::size_t reader = input.choose(4);
  const std::string_view text = input.rest();
  switch (reader) {
    case 0: {
      const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
      const auto delay = dispatch::parse_retry_after(text, now);
      SWITCHYARD_FUZZ_REQUIRE(!delay || delay->count() >= 0);
      (void)dispatch::parse_retry_after_ms(text);
      break;
    }
    case 1:
      (void)config::parse_duration(text);
      break;
    case 2:
      (void)config::parse_size(text);
      break;
    default:
      if (const auto url = config::parse_url(text))
        SWITCHYARD_FUZZ_REQUIRE(!url->host.empty() && url->port != 0);
  }
  return 0;
}

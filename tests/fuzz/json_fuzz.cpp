// The JSON scanner every request, response and stream event goes through, and the canonical form
// the cache key hashes: validation never crashes or reads out of bounds; what it accepts can be
// walked, decoded and put in canonical form; the canonical form is valid JSON and its own
// canonical form.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "switchyard/api/json.hpp"
#include "switchyard/cache/key.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input input(data, size);
  const std::string_view text = input.rest();
  const bool valid = !api::json::validate(text);
  const bool scanned = !api::json::scan(text, [&](std::string_view key, const api::json::Value& v) {
    SWITCHYARD_FUZZ_REQUIRE(api::json::key_equals(key, api::json::unescape(key)));
    if (v.type == api::json::Type::string) (void)api::json::unescape(v.raw);
    if (v.type == api::json::Type::object) {
      // The walk that trusts validated text sees the members a validating scan sees.
      std::size_t walked = 0, validated = 0;
      api::json::for_each_member(v.raw,
                                 [&](std::string_view, const api::json::Value&) { ++walked; });
      (void)api::json::scan(v.raw, [&](std::string_view, const api::json::Value&) { ++validated; });
      SWITCHYARD_FUZZ_REQUIRE(walked == validated);
    }
    if (v.type == api::json::Type::array)
      api::json::for_each_element(v.raw, [](const api::json::Value&) {});
  });
  SWITCHYARD_FUZZ_REQUIRE(valid == scanned);

  const auto canonical = cache::canonical_json(text);
  SWITCHYARD_FUZZ_REQUIRE(canonical.has_value() == valid);
  if (canonical) {
    SWITCHYARD_FUZZ_REQUIRE(!api::json::validate(*canonical));
    SWITCHYARD_FUZZ_REQUIRE(cache::canonical_json(*canonical) == canonical);
  }
  return 0;
}

// The configuration loader (YAML to Config), which also reads files an operator edits while the
// gateway runs: any text is a Config or a list of diagnostics, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "switchyard/config/config.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input input(data, size);
  const auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "FUZZ_KEY") return "sk-fuzz";
    return std::nullopt;
  };
  (void)config::load_config_string(input.rest(), "fuzz.yaml", env);
  return 0;
}

// What every fuzz target shares: the input as text, and the first bytes of it spent on choices
// (a split size, a provider, an operation) so that one corpus drives several paths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace switchyard::fuzz {

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size)
      : text_(reinterpret_cast<const char*>(data), size) {}

  // The next byte as a choice among `n` (0 when the input is used up), consumed.
  std::size_t choose(std::size_t n) {
    if (text_.empty() || n == 0) return 0;
    const auto byte = static_cast<unsigned char>(text_.front());
    text_.remove_prefix(1);
    return byte % n;
  }
  std::string_view rest() const { return text_; }

 private:
  std::string_view text_;
};

// A property the code under test must hold; a violation is a crash the fuzzer keeps, after
// saying which property and, when given, what broke it.
#define SWITCHYARD_FUZZ_REQUIRE(holds, ...)                                                     \
  do {                                                                                          \
    if (!(holds)) {                                                                             \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d) %s\n", #holds, __FILE__, __LINE__, \
                   std::string(__VA_ARGS__).c_str());                                           \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)

}  // namespace switchyard::fuzz

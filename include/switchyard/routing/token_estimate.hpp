// A fast estimate of how many tokens a prompt's text is for OpenAI's o200k_base encoding (the
// gpt-4o family), for the complexity router's "estimated prompt tokens" on the hot path: one
// pass over the bytes, no allocation, no vocabulary. It mimics o200k_base's pre-tokenizer
// (letter runs split at a lower-to-upper case change, digits in groups of three, punctuation
// runs, whitespace runs, one leading space or symbol joined to the following word) and prices
// each pre-token by its script and length instead of running BPE, with a surcharge on the longer
// words of a piece that reads as a language other than English. Measured against the real
// tokenizer on tests/data/tokens/samples.jsonl (tests/unit/token_estimate_test.cpp).
#pragma once

#include <cstdint>
#include <string_view>

namespace switchyard::routing {

// A request's text arrives piece by piece (each message's content, each tool argument); a token
// never spans two pieces, so each add_* call is priced on its own and the total accumulates.
class TokenEstimator {
 public:
  // Decoded UTF-8 text. Invalid bytes are priced like the byte-fallback tokens they become.
  void add_text(std::string_view utf8);
  // The inside of a JSON string literal, escapes not decoded: \n, \", \\, \uXXXX (surrogate
  // pairs included) count as the character they stand for.
  void add_json_string(std::string_view raw);
  // The estimate so far, rounded to a whole token.
  std::uint64_t tokens() const { return (milli_tokens_ + 500) / 1000; }

 private:
  std::uint64_t milli_tokens_ = 0;  // thousandths of a token, so fractional prices add up
};

std::uint64_t estimate_tokens(std::string_view utf8);

}  // namespace switchyard::routing

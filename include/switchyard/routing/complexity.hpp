// Complexity routing: what a chat body says about how hard it is — estimated prompt size, tools,
// a JSON schema to follow, many turns, images, configured patterns — and the heuristic verdict a
// classifier route (`complexity:`) draws from it: simple (cheap targets) or complex (strong
// ones). Pure: the external classifier's score, when there is one, is asked for elsewhere and
// handed in.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/config/config.hpp"

namespace switchyard::routing {

// Read from the body in one pass over its messages; the text itself is not copied.
struct Signals {
  std::uint64_t prompt_tokens = 0;  // estimated, message framing included
  std::size_t messages = 0;
  bool tools = false;                   // a non-empty `tools` array
  bool json_schema = false;             // response_format of type json_schema
  bool images = false;                  // an image_url content part
  std::uint64_t max_output_tokens = 0;  // max_completion_tokens or max_tokens; 0 = not given
  // The first configured pattern found in a message's text (a view into the config); empty when
  // none matched or none is configured.
  std::string_view pattern;
};

// The signals without patterns: what rate limits in tokens need (estimate and output cap).
// `body` must have passed parse_chat_request's validation.
Signals read_signals(std::string_view body);

struct Verdict {
  bool complex = false;
  // Why, in words for the log and /admin/explain: "tools", "412 estimated prompt tokens < 500",
  // "classifier score 0.82 >= 0.5", "classifier timed out; 40 estimated prompt tokens < 500".
  std::string reason;
  Signals signals;
  std::optional<double> score;  // the external classifier's, when it answered
};

class ComplexityPolicy {
 public:
  explicit ComplexityPolicy(const config::Complexity& config);
  ~ComplexityPolicy();
  ComplexityPolicy(const ComplexityPolicy&) = delete;
  ComplexityPolicy& operator=(const ComplexityPolicy&) = delete;

  const config::Complexity& config() const { return config_; }
  // `body` must have passed parse_chat_request's validation.
  Signals read(std::string_view body) const;
  // The verdict without a classifier score.
  Verdict heuristic(const Signals& signals) const;
  // With the classifier's score, for a request the heuristic found simple (a long or
  // tool-using one is complex whatever a model thinks of its wording, and is not worth the
  // classifier's time): at or above the threshold it is complex after all.
  Verdict with_score(const Signals& signals, double score) const;
  // The classifier did not answer in time or usably (`why`): the heuristic decides.
  Verdict without_classifier(const Signals& signals, std::string_view why) const;

  // What the classifier is shown: the last user message's text, decoded, at most `max_bytes`
  // (cut at a character boundary).
  static std::string last_user_text(std::string_view body, std::size_t max_bytes);

  struct Patterns;  // opaque: <regex> stays out of this header

 private:
  const config::Complexity& config_;
  std::unique_ptr<Patterns> patterns_;  // compiled config_.signals.patterns
};

}  // namespace switchyard::routing

#include "switchyard/routing/complexity.hpp"

#include <charconv>
#include <cstdio>
#include <regex>
#include <vector>

#include "switchyard/api/json.hpp"
#include "switchyard/routing/token_estimate.hpp"

namespace switchyard::routing {

namespace {

namespace json = api::json;

// OpenAI's count of a chat prompt adds a few tokens per message for the role and the framing,
// and a few for priming the reply (openai-cookbook, "How to count tokens with tiktoken").
constexpr std::uint64_t kTokensPerMessage = 3;
constexpr std::uint64_t kReplyPriming = 3;
// Patterns look at no more of a message than this: libstdc++'s std::regex recurses per input
// character, and the start of a long message says as much about it as the whole.
constexpr std::size_t kMaxPatternText = 8 * 1024;

std::string_view inner(const json::Value& string) {
  return string.raw.substr(1, string.raw.size() - 2);
}

bool is_string(const json::Value& v, std::string_view text) {
  return v.type == json::Type::string && json::key_equals(inner(v), text);
}

std::string format_score(double score) {
  char text[16];
  const int n = std::snprintf(text, sizeof text, "%.2f", score);
  return std::string(text, static_cast<std::size_t>(n));
}

}  // namespace

struct ComplexityPolicy::Patterns {
  std::vector<std::regex> compiled;  // aligned with config.signals.patterns
};

namespace {

// One pass over the body; `patterns` (aligned with `sources`) may be null.
Signals scan(std::string_view body, const ComplexityPolicy::Patterns* patterns,
             const std::vector<std::string>* sources) {
  Signals s;
  TokenEstimator estimate;
  const bool match = patterns && !patterns->compiled.empty();
  auto text = [&](const json::Value& v) {
    if (v.type != json::Type::string) return;
    estimate.add_json_string(inner(v));
    if (!match || !s.pattern.empty()) return;
    std::string decoded = json::unescape(v.raw);
    if (decoded.size() > kMaxPatternText) decoded.resize(kMaxPatternText);
    for (std::size_t i = 0; i < patterns->compiled.size(); ++i) {
      if (std::regex_search(decoded, patterns->compiled[i])) {
        s.pattern = (*sources)[i];
        return;
      }
    }
  };
  auto content = [&](const json::Value& v) {
    if (v.type == json::Type::string) return text(v);
    if (v.type != json::Type::array) return;
    json::for_each_element(v.raw, [&](const json::Value& part) {
      if (part.type != json::Type::object) return;
      json::for_each_member(part.raw, [&](std::string_view key, const json::Value& field) {
        if (json::key_equals(key, "text"))
          text(field);
        else if (json::key_equals(key, "image_url"))
          s.images = true;
      });
    });
  };
  auto message = [&](const json::Value& m) {
    ++s.messages;
    if (m.type != json::Type::object) return;
    json::for_each_member(m.raw, [&](std::string_view key, const json::Value& field) {
      if (json::key_equals(key, "content")) {
        content(field);
      } else if (json::key_equals(key, "tool_calls") && field.type == json::Type::array) {
        // Earlier tool calls are prompt too: their names and arguments.
        json::for_each_element(field.raw, [&](const json::Value& call) {
          if (call.type != json::Type::object) return;
          json::for_each_member(call.raw, [&](std::string_view k, const json::Value& function) {
            if (!json::key_equals(k, "function") || function.type != json::Type::object) return;
            json::for_each_member(function.raw, [&](std::string_view, const json::Value& f) {
              if (f.type == json::Type::string) estimate.add_json_string(inner(f));
            });
          });
        });
      }
    });
  };
  json::for_each_member(body, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "messages") && v.type == json::Type::array) {
      json::for_each_element(v.raw, message);
    } else if (json::key_equals(key, "tools") && v.type == json::Type::array) {
      json::for_each_element(v.raw, [&](const json::Value&) { s.tools = true; });
    } else if (json::key_equals(key, "response_format") && v.type == json::Type::object) {
      json::for_each_member(v.raw, [&](std::string_view k, const json::Value& type) {
        if (json::key_equals(k, "type") && is_string(type, "json_schema")) s.json_schema = true;
      });
    } else if ((json::key_equals(key, "max_completion_tokens") ||
                json::key_equals(key, "max_tokens")) &&
               v.type == json::Type::number) {
      std::uint64_t n = 0;
      const auto [end, ec] = std::from_chars(v.raw.data(), v.raw.data() + v.raw.size(), n);
      if (ec == std::errc{} && end == v.raw.data() + v.raw.size()) s.max_output_tokens = n;
    }
  });
  s.prompt_tokens = estimate.tokens() + kTokensPerMessage * s.messages + kReplyPriming;
  return s;
}

}  // namespace

ComplexityPolicy::ComplexityPolicy(const config::Complexity& config)
    : config_(config), patterns_(std::make_unique<Patterns>()) {
  // The config loader compiled each one already; a pattern here cannot fail.
  for (const auto& p : config_.signals.patterns)
    patterns_->compiled.emplace_back(p, std::regex::ECMAScript | std::regex::icase);
}

ComplexityPolicy::~ComplexityPolicy() = default;

Signals read_signals(std::string_view body) {
  return scan(body, nullptr, nullptr);
}

Signals ComplexityPolicy::read(std::string_view body) const {
  return scan(body, patterns_.get(), &config_.signals.patterns);
}

Verdict ComplexityPolicy::heuristic(const Signals& signals) const {
  const auto& want = config_.signals;
  Verdict v{true, {}, signals, std::nullopt};
  if (want.tools && signals.tools) {
    v.reason = "tools";
  } else if (want.json_schema && signals.json_schema) {
    v.reason = "response_format json_schema";
  } else if (want.images && signals.images) {
    v.reason = "images";
  } else if (want.max_turns > 0 && signals.messages > want.max_turns) {
    v.reason = std::to_string(signals.messages) + " messages > " + std::to_string(want.max_turns);
  } else if (!signals.pattern.empty()) {
    v.reason = "pattern \"" + std::string(signals.pattern) + "\"";
  } else {
    v.complex = signals.prompt_tokens >= config_.max_simple_tokens;
    v.reason = std::to_string(signals.prompt_tokens) + " estimated prompt tokens " +
               (v.complex ? ">= " : "< ") + std::to_string(config_.max_simple_tokens);
  }
  return v;
}

Verdict ComplexityPolicy::with_score(const Signals& signals, double score) const {
  const bool complex = score >= config_.classifier.threshold;
  return {complex,
          "classifier score " + format_score(score) + (complex ? " >= " : " < ") +
              format_score(config_.classifier.threshold),
          signals, score};
}

Verdict ComplexityPolicy::without_classifier(const Signals& signals, std::string_view why) const {
  Verdict v = heuristic(signals);
  v.reason = "classifier " + std::string(why) + "; " + v.reason;
  return v;
}

std::string ComplexityPolicy::last_user_text(std::string_view body, std::size_t max_bytes) {
  std::string_view last;  // the raw content of the last user message
  json::for_each_member(body, [&](std::string_view key, const json::Value& v) {
    if (!json::key_equals(key, "messages") || v.type != json::Type::array) return;
    json::for_each_element(v.raw, [&](const json::Value& m) {
      if (m.type != json::Type::object) return;
      bool user = false;
      std::string_view content;
      json::for_each_member(m.raw, [&](std::string_view k, const json::Value& field) {
        if (json::key_equals(k, "role"))
          user = is_string(field, "user");
        else if (json::key_equals(k, "content"))
          content = field.raw;
      });
      if (user && !content.empty()) last = content;
    });
  });
  std::string out;
  if (last.empty()) return out;
  if (last.front() == '"') {
    out = json::unescape(last);
  } else if (last.front() == '[') {
    json::for_each_element(last, [&](const json::Value& part) {
      if (part.type != json::Type::object) return;
      json::for_each_member(part.raw, [&](std::string_view k, const json::Value& field) {
        if (!json::key_equals(k, "text") || field.type != json::Type::string) return;
        if (!out.empty()) out += '\n';
        out += json::unescape(field.raw);
      });
    });
  }
  if (out.size() > max_bytes) {
    std::size_t cut = max_bytes;
    // Back to the start of a UTF-8 character.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

}  // namespace switchyard::routing

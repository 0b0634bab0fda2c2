#include "mock_defaults.hpp"

#include <nlohmann/json.hpp>

namespace switchyard::mock {

ResponseScript MockDefaults::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::optional<std::string> MockDefaults::apply_json(std::string_view body) {
  const auto directives = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!directives.is_object()) {
    return "the body must be a JSON object of directives, e.g. {\"status\":\"503\"}";
  }
  std::lock_guard lock(mutex_);
  ResponseScript updated = current_;
  for (const auto& [directive, value] : directives.items()) {
    // Values are strings, as in the headers; plain numbers and booleans are taken as written.
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_number_integer() || value.is_boolean()) {
      text = value.dump();
    } else {
      return directive + ": the value must be a string";
    }
    // The message names the directive already: "bad value for status: 'x'".
    if (auto error = apply_directive(updated, directive, text)) return *error;
  }
  current_ = std::move(updated);
  return std::nullopt;
}

void MockDefaults::reset() {
  std::lock_guard lock(mutex_);
  current_ = command_line_;
}

}  // namespace switchyard::mock

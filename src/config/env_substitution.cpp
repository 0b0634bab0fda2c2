#include "env_substitution.hpp"

#include <cstdlib>

namespace switchyard::config {
namespace {

// POSIX portable names; anything else is more likely a typo than a variable.
bool is_variable_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

Substituted substitute_env(std::string_view text, const EnvLookup& env, bool secret) {
  Substituted out;
  out.text.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c != '$' || (next != '$' && next != '{')) {
      out.text += c;
      ++i;
      continue;
    }
    if (next == '$') {
      out.text += '$';
      i += 2;
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      out.errors.emplace_back("unterminated '${' (write '$$' for a literal '$')");
      return out;
    }
    const std::string_view reference = text.substr(i + 2, close - i - 2);
    i = close + 1;

    const std::size_t dash = reference.find(":-");
    const std::string name(reference.substr(0, dash));
    if (!is_variable_name(name)) {
      // A malformed reference in a secret may be the secret itself pasted inside ${...}.
      out.errors.emplace_back(secret ? std::string("invalid environment variable reference")
                                     : "invalid environment variable name '" + name + "'");
      continue;
    }
    std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (dash != std::string_view::npos && (!value || value->empty())) {
      value = std::string(reference.substr(dash + 2));
    }
    if (!value) {
      out.errors.push_back("environment variable '" + name + "' is not set");
      continue;
    }
    out.text += *value;
  }
  return out;
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    // getenv races only with setenv, which the gateway never calls after start-up.
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
  };
}

}  // namespace switchyard::config

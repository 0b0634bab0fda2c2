// ${NAME} substitution in config values, so secrets live in the environment rather than in the
// file. Internal to config/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config {

struct Substituted {
  std::string text;
  std::vector<std::string> errors;  // one message per problem, without a location
};

// Replaces every ${NAME} with the variable's value and ${NAME:-default} with the value, or with
// `default` when the variable is unset or empty (as in sh). `$$` is a literal '$'; any other '$'
// is kept as is. With `secret` set, messages never quote the text, only variable names that are
// well formed.
Substituted substitute_env(std::string_view text, const EnvLookup& env, bool secret);

}  // namespace switchyard::config

// Checks shared by the request parsers of api/: OpenAI's wording for a field of the wrong type,
// and the `model` field every endpoint routes on.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchyard/api/error.hpp"
#include "switchyard/api/json.hpp"

namespace switchyard::api {

// "Invalid type for 'param': expected …, but got … instead."
ApiError wrong_type(std::string_view param, std::string_view expected, json::Type got);

// Checks `model` (seen, a non-empty string) and keeps its raw bytes, and its decoded text when
// it has escapes.
std::optional<ApiError> read_model(bool seen, const json::Value& value, std::string_view& raw,
                                   std::string& decoded);

}  // namespace switchyard::api

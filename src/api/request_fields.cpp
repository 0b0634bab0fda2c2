#include "request_fields.hpp"

namespace switchyard::api {

namespace {

std::string_view type_name(json::Type t) {
  switch (t) {
    case json::Type::null:
      return "null";
    case json::Type::boolean:
      return "a boolean";
    case json::Type::number:
      return "a number";
    case json::Type::string:
      return "a string";
    case json::Type::array:
      return "an array";
    case json::Type::object:
      return "an object";
  }
  return "a value";
}

}  // namespace

ApiError wrong_type(std::string_view param, std::string_view expected, json::Type got) {
  return errors::invalid_request("Invalid type for '" + std::string(param) + "': expected " +
                                     std::string(expected) + ", but got " +
                                     std::string(type_name(got)) + " instead.",
                                 param, "invalid_type");
}

std::optional<ApiError> read_model(bool seen, const json::Value& value, std::string_view& raw,
                                   std::string& decoded) {
  auto missing = [] {
    return errors::invalid_request("you must provide a model parameter", "model",
                                   "missing_required_parameter");
  };
  if (!seen || value.type == json::Type::null) return missing();
  if (value.type != json::Type::string) return wrong_type("model", "a string", value.type);
  raw = value.raw;
  if (raw.find('\\') != std::string_view::npos) decoded = json::unescape(raw);
  if (raw.size() == 2) return missing();
  return std::nullopt;
}

}  // namespace switchyard::api

#include "wire_text.hpp"

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

const json* find_member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const json* find_member(const json& object, std::string_view key, std::string_view alias) {
  const json* found = find_member(object, key);
  return found != nullptr ? found : find_member(object, alias);
}

bool is_true(const json& object, std::string_view key) {
  const json* value = find_member(object, key);
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

std::vector<std::string> split_content(std::string_view content, int pieces) {
  std::vector<std::string> result;
  if (pieces <= 0) return result;
  // Byte offset of every code point. The first byte always starts one, so stray continuation
  // bytes at the front of invalid UTF-8 are kept rather than lost.
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < content.size(); ++i) {
    if (i == 0 || !is_continuation_byte(content[i])) starts.push_back(i);
  }
  const std::size_t code_points = starts.size();
  auto offset_of = [&](std::size_t code_point) {
    return code_point < code_points ? starts[code_point] : content.size();
  };
  const auto count = static_cast<std::size_t>(pieces);
  result.reserve(count);
  for (std::size_t k = 0; k < count; ++k) {
    std::size_t begin = offset_of(code_points * k / count);
    std::size_t end = offset_of(code_points * (k + 1) / count);
    result.emplace_back(content.substr(begin, end - begin));
  }
  return result;
}

}  // namespace switchyard::mock

#include "switchyard/upstream/response_parser.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <cstdint>
#include <cstring>

namespace switchyard::upstream {

namespace {

constexpr std::size_t kSizeBytes = sizeof(std::uint32_t);

void put_size(std::string& out, std::size_t n) {
  const auto v = static_cast<std::uint32_t>(n);
  out.append(reinterpret_cast<const char*>(&v), kSizeBytes);
}

std::size_t get_size(const char* at) {
  std::uint32_t v;
  std::memcpy(&v, at, kSizeBytes);
  return v;
}

}  // namespace

void ResponseParser::on_field_impl(boost::beast::http::field, string_view name, string_view value,
                                   error_code&) {
  put_size(fields_, name.size());
  put_size(fields_, value.size());
  fields_.append(name.data(), name.size());
  fields_.append(value.data(), value.size());
}

std::string_view ResponseParser::header(std::string_view name) const {
  const char* at = fields_.data();
  const char* const end = at + fields_.size();
  while (at < end) {
    const std::size_t name_size = get_size(at);
    const std::size_t value_size = get_size(at + kSizeBytes);
    const char* const field = at + 2 * kSizeBytes;
    if (boost::beast::iequals(boost::beast::string_view(field, name_size), name))
      return {field + name_size, value_size};
    at = field + name_size + value_size;
  }
  return {};
}

// As Beast's buffer_body: copy what fits, and ask for a new buffer when this one is full.
std::size_t ResponseParser::on_body_impl(string_view body, error_code& ec) {
  if (!out_) {
    ec = boost::beast::http::error::need_buffer;
    return 0;
  }
  const std::size_t n = std::min(room_, body.size());
  std::memcpy(out_, body.data(), n);
  out_ += n;
  room_ -= n;
  if (n < body.size()) ec = boost::beast::http::error::need_buffer;
  return n;
}

}  // namespace switchyard::upstream

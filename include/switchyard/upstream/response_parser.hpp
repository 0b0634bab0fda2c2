// An upstream response as the gateway reads it: Beast's HTTP/1.1 parser (framing, chunked
// decoding, keep-alive) without Beast's field container. The gateway looks at the status, a
// handful of headers and the body bytes, so the fields are kept as one block of text in storage
// the pooled connection reuses, and the body goes straight into the caller's buffer. A field
// container spent about 1,000 instructions a field on nodes nobody read (bench/RESULTS.md).
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace switchyard::upstream {

class ResponseParser final : public boost::beast::http::basic_parser<false> {
 public:
  // `fields` holds the header fields while this parser lives; it is cleared here.
  explicit ResponseParser(std::string& fields) : fields_(fields) { fields_.clear(); }

  int status() const { return status_; }
  // The first field named `name` (any case), or empty.
  std::string_view header(std::string_view name) const;

  // Where the next body bytes go: put() and reads stop with error::need_buffer once it is full.
  void body_into(std::span<char> into) {
    out_ = into.data();
    room_ = into.size();
  }
  std::size_t room() const { return room_; }

 private:
  using error_code = boost::system::error_code;
  using string_view = boost::beast::string_view;

  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override { status_ = code; }
  void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                     error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override {
    return on_body_impl(body, ec);
  }
  void on_finish_impl(error_code&) override {}

  std::string& fields_;  // per field: name size, value size (4 bytes each), name, value
  int status_ = 0;
  char* out_ = nullptr;
  std::size_t room_ = 0;
};

}  // namespace switchyard::upstream

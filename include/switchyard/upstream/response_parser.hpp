// An upstream's HTTP/1.1 response as the gateway reads it (RFC 9112): the status, the header
// fields kept as one block of text, and the body's framing — a length, chunks, or until the
// connection closes — decoded straight into the caller's buffer. The gateway looks at the status,
// a handful of headers and the body bytes, so nothing else is built: Beast's general parser and
// its field container cost about 4,500 instructions a response here, and 500 a stream event for
// the chunk framing alone (bench/RESULTS.md). Errors are Beast's http::error codes.
#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace switchyard::upstream {

class ResponseParser {
 public:
  using error_code = boost::system::error_code;
  // The most a response head (status line and fields) may take, and a chunk's framing line.
  static constexpr std::size_t kMaxHead = 64 * 1024;
  static constexpr std::size_t kMaxChunkLine = 4 * 1024;

  // `fields` holds the header fields while this parser lives; it is cleared here.
  explicit ResponseParser(std::string& fields) : fields_(fields) { fields_.clear(); }

  // Takes what it can of `in` (the bytes not taken before, offered again with what arrived
  // since) and returns how many bytes it took. The head is taken whole or not at all, and put()
  // returns after it. `ec` is http::error::need_more when `in` ends inside the head or a chunk's
  // framing, need_buffer when the body room is full, or what is wrong with the response.
  std::size_t put(std::string_view in, error_code& ec);
  // The connection closed: a body that runs until the close is complete; anything else was cut
  // short (http::error::partial_message).
  void put_eof(error_code& ec);

  bool got_some() const { return got_some_; }
  bool is_header_done() const { return state_ > State::head; }
  bool is_done() const { return state_ == State::done; }
  // The connection may carry the next request once this response is done.
  bool keep_alive() const { return keep_alive_; }
  // The body bytes still to come when the response has a Content-Length.
  std::optional<std::uint64_t> content_length_remaining() const {
    if (state_ != State::length) return std::nullopt;
    return left_;
  }

  int status() const { return status_; }
  // The first field named `name` (any case), without surrounding whitespace, or empty.
  std::string_view header(std::string_view name) const;

  // Where the next body bytes go: put() stops with need_buffer once it is full.
  void body_into(std::span<char> into) {
    out_ = into.data();
    room_ = into.size();
  }
  std::size_t room() const { return room_; }

 private:
  enum class State : std::uint8_t {
    head,
    length,      // left_ bytes of body to come
    until_eof,   // the body ends when the connection does
    chunk_size,  // a chunk's size line
    chunk_data,  // left_ bytes of the chunk to come
    chunk_end,   // the CRLF after a chunk's data
    trailer,     // the trailer fields after the last chunk, up to an empty line
    done,
  };

  std::size_t put_head(std::string_view in, error_code& ec);
  // Parses a whole head (status line to the empty line, exclusive); sets the framing.
  void parse_head(std::string_view head, error_code& ec);
  std::size_t put_body(std::string_view in, error_code& ec);
  std::size_t copy_body(std::string_view in);

  std::string& fields_;  // the field lines of the head, each ending in CRLF
  State state_ = State::head;
  bool got_some_ = false;
  bool keep_alive_ = false;
  int status_ = 0;
  std::size_t scanned_ = 0;  // head bytes already searched for the empty line
  std::uint64_t left_ = 0;
  char* out_ = nullptr;
  std::size_t room_ = 0;
};

}  // namespace switchyard::upstream

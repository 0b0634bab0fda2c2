// HTTP/1.1 messages as the gateway reads them (RFC 9112): the client's requests and upstreams'
// responses. A head is kept as its text — the start line and the field lines — with where each
// field's name and value are in it; only the framing fields (Content-Length, Transfer-Encoding,
// Connection) are interpreted. The body — a length, chunks, or (a response) until the
// connection closes — is decoded straight into the caller's buffer. The gateway looks at a few
// headers and the body bytes, so nothing else is built: Beast's general parser and its field
// container cost about 4,500 instructions a response and 5,800 a request here
// (bench/RESULTS.md). Errors are Beast's http::error codes.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::http1 {

enum class Kind : std::uint8_t { request, response };

// A message's head as read. Kept by whoever owns the connection and refilled for each message,
// so its memory is allocated once per connection, not per message.
class Head {
 public:
  using verb = boost::beast::http::verb;

  // The first field named `name` (any case), without surrounding whitespace; nothing when there
  // is none.
  std::optional<std::string_view> find(std::string_view name) const;
  // The same, empty when there is none.
  std::string_view header(std::string_view name) const {
    return find(name).value_or(std::string_view());
  }
  // Calls f(name, value) for each field, in the order they came.
  template <class F>
  void for_each_field(F&& f) const {
    for (const Field& field : fields_) f(name(field), value(field));
  }

  unsigned version() const { return version_; }  // 10 or 11
  // A request's.
  verb method() const { return method_; }
  std::string_view method_string() const { return slice(0, method_size_); }
  std::string_view target() const { return slice(target_at_, target_size_); }
  // A response's.
  int status() const { return status_; }

  // Frees what it holds when that is more than `bytes`.
  void release_beyond(std::size_t bytes);

 private:
  friend class Parser;
  struct Field {
    std::uint32_t name_at, name_size, value_at, value_size;
  };
  std::string_view slice(std::uint32_t at, std::uint32_t size) const {
    return std::string_view(text_).substr(at, size);
  }
  std::string_view name(const Field& f) const { return slice(f.name_at, f.name_size); }
  std::string_view value(const Field& f) const { return slice(f.value_at, f.value_size); }

  std::string text_;  // the start line and the field lines, each ending in CRLF
  std::vector<Field> fields_;
  unsigned version_ = 11;
  verb method_ = verb::unknown;
  std::uint32_t method_size_ = 0, target_at_ = 0, target_size_ = 0;
  int status_ = 0;
};

class Parser {
 public:
  using error_code = boost::system::error_code;
  // The most a response head may take unless the parser is told otherwise, and a chunk's
  // framing line.
  static constexpr std::size_t kMaxHead = 64 * 1024;
  static constexpr std::size_t kMaxChunkLine = 4 * 1024;
  static constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

  // Reads one message of `kind` into `head` (emptied here). A head longer than `max_head` is
  // http::error::header_limit; a body longer than `max_body`, body_limit.
  Parser(Kind kind, Head& head, std::size_t max_head = kMaxHead,
         std::uint64_t max_body = kUnlimited);

  // Takes what it can of `in` (the bytes not taken before, offered again with what arrived
  // since) and returns how many bytes it took. The head is taken whole or not at all, and put()
  // returns after it. `ec` is http::error::need_more when `in` ends inside the head or a chunk's
  // framing, need_buffer when the body room is full, or what is wrong with the message.
  std::size_t put(std::string_view in, error_code& ec);
  // The connection closed: a response body that runs until the close is complete; anything else
  // was cut short (http::error::partial_message).
  void put_eof(error_code& ec);

  const Head& head() const { return head_; }
  bool got_some() const { return got_some_; }
  bool is_header_done() const { return state_ > State::head; }
  bool is_done() const { return state_ == State::done; }
  // The connection may carry the next message once this one is done.
  bool keep_alive() const { return keep_alive_; }
  // The body bytes still to come when the message has a Content-Length.
  std::optional<std::uint64_t> content_length_remaining() const {
    if (state_ != State::length) return std::nullopt;
    return left_;
  }

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
  // What the framing fields said.
  struct Framing;

  std::size_t put_head(std::string_view in, error_code& ec);
  // Parses a whole head (start line to the empty line, exclusive) into head_; sets the framing.
  void parse_head(std::string_view head, error_code& ec);
  bool parse_request_line(std::string_view line, error_code& ec);
  bool parse_status_line(std::string_view line, error_code& ec);
  void parse_fields(std::string_view lines, std::size_t at, Framing& framing, error_code& ec);
  void set_framing(const Framing& framing, error_code& ec);
  // A body of `length` bytes follows (none when 0).
  void expect_length(std::uint64_t length);
  std::size_t put_body(std::string_view in, error_code& ec);
  std::size_t copy_body(std::string_view in);

  Head& head_;
  std::size_t max_head_;
  std::uint64_t max_body_;
  Kind kind_;
  State state_ = State::head;
  bool got_some_ = false;
  bool keep_alive_ = false;
  std::size_t scanned_ = 0;  // head bytes already searched for the empty line
  std::uint64_t left_ = 0;
  std::uint64_t body_size_ = 0;  // of the chunks announced so far
  char* out_ = nullptr;
  std::size_t room_ = 0;
};

}  // namespace switchyard::http1

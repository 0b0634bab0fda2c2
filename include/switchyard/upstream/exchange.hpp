// One HTTP request/response with an upstream, over a pooled connection: send the request, read
// the head, then the body in pieces (streams) or whole. Every wait is bounded by the provider's
// timeouts and the attempt's deadline; the connection goes back to the pool only after a
// complete response that allows keep-alive.
#pragma once

#include <boost/asio/buffer.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include "switchyard/async.hpp"

#include "switchyard/http1/parser.hpp"
#include "switchyard/upstream/connection.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::upstream {

class Exchange {
 public:
  // Nothing waits past `deadline` (the request's), nor past the provider's total timeout.
  explicit Exchange(Origin& origin, Clock::time_point deadline = Clock::time_point::max());
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Sends the request and reads the response head. A pooled connection that turns out to be
  // stale (the request could not even be written) is replaced by a fresh one, once,
  // transparently.
  Awaitable<Failure> send(std::span<const asio::const_buffer> request);

  int status() const { return parser_->head().status(); }
  std::string_view header(std::string_view name) const { return parser_->head().header(name); }
  // The response head says text/event-stream.
  bool is_event_stream() const { return event_stream_; }

  // Reads the next body bytes into the event parser's buffer, setting *n; *n == 0 at the end of
  // the body. Waits at most the idle timeout (the first-byte timeout when `first` is set). While
  // the upstream is quiet nothing of the parser's is held: room is made after bytes arrived, for
  // as many as came, so a stream waiting for its next event costs no read buffer of its own.
  Awaitable<Failure> read_some(SseParser& events, std::size_t* n, bool first = false);
  // Reads the rest of the body, appending to `out`, failing past `limit` bytes.
  Awaitable<Failure> read_body(std::string& out, std::size_t limit);

  // Ends the exchange: a complete keep-alive response returns the connection to the pool,
  // anything else closes it. Called by the destructor too.
  void finish();
  // Closes the connection now, making any pending operation fail with Fault::aborted. For use
  // by another coroutine on the same thread (the client went away).
  void abort();

 private:
  Awaitable<Failure> try_send(std::span<const asio::const_buffer> request, bool* stale);
  // Body bytes into the room `room(k)` gives for the k raw bytes that arrived (at least the body
  // bytes among them), then room.commit(n); reads again while what came was only chunk framing.
  template <class Room>
  Awaitable<Failure> read_body_bytes(Room room, std::size_t* n, bool first);
  // The room for the next read from the connection, and what follows the read: the bytes
  // committed, and the end of the connection told to the parser.
  asio::mutable_buffer read_room();
  boost::system::error_code after_read(boost::system::error_code ec, std::size_t got);
  // Before a stream waits: a small buffer for a slow one, a growing one for a fast one.
  void size_stream_buffer();
  // Moves buffered body bytes into `into` without waiting.
  Failure take(std::span<char> into, std::size_t* n);
  Failure map_error(const boost::system::error_code& ec, Timeout phase) const;
  // Arms the stream's timer with the phase timeout, capped by the attempt's deadline.
  Timeout arm(Timeout phase);
  // Which overall limit deadline_ is.
  Timeout overall() const {
    return deadline_ == request_deadline_ ? Timeout::deadline : Timeout::total;
  }

  Origin& origin_;
  std::unique_ptr<Connection> conn_;
  std::optional<http1::Parser> parser_;
  Clock::time_point request_deadline_;
  Clock::time_point deadline_;  // the earlier of the request's and the attempt's total
  bool capped_by_total_ = false;
  bool aborted_ = false;
  bool starved_ = false;         // the buffered bytes are not enough for the parser: read more
  bool event_stream_ = false;    // read off the head once it is parsed
  bool last_read_full_ = false;  // the last read filled the room it had: more was waiting
  std::size_t room_ = 0;         // the room of the read in progress
};

}  // namespace switchyard::upstream

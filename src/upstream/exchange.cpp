#include "switchyard/upstream/exchange.hpp"

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>

namespace switchyard::upstream {

namespace {
namespace http = beast::http;
constexpr std::size_t kBodyReadChunk = 16 * 1024;
constexpr std::size_t kMaxReadSize = 64 * 1024;  // one read from the connection, at most
// Each read is sized by the buffer's free room. 2 KiB holds a typical response head and a small
// body, or a few events of a stream; a connection's buffer grows as its responses need (Beast
// doubles it when full) and keeps that size, except while it waits for a stream's next event.
constexpr std::size_t kRoom = 2048;
// What a slow stream waits with: a few of the usual events (100 to 400 bytes each).
constexpr std::size_t kWaitRoom = 1024;
constexpr std::size_t kMaxStreamRoom = 32 * 1024;

std::string_view phase_name(Timeout t) {
  switch (t) {
    case Timeout::connect:
      return "connect";
    case Timeout::first_byte:
      return "first byte";
    case Timeout::idle:
      return "idle";
    case Timeout::total:
      return "total";
    case Timeout::deadline:
      return "request deadline";
    case Timeout::none:
      break;
  }
  return "";
}

bool says_event_stream(std::string_view content_type) {
  constexpr std::string_view kSse = "text/event-stream";
  return content_type.size() >= kSse.size() &&
         std::equal(kSse.begin(), kSse.end(), content_type.begin(),
                    [](char a, char b) { return a == (b | 0x20); });
}

// The bytes read and not yet taken by the parser.
std::string_view pending(const beast::flat_buffer& buffer) {
  const auto data = buffer.data();
  return {static_cast<const char*>(data.data()), data.size()};
}

bool is_disconnect(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == asio::ssl::error::stream_truncated || ec == http::error::end_of_stream ||
         ec == http::error::partial_message;
}
}  // namespace

Exchange::Exchange(Origin& origin, Clock::time_point deadline)
    : origin_(origin), request_deadline_(deadline) {}

Exchange::~Exchange() {
  finish();
}

Timeout Exchange::arm(Timeout phase) {
  const auto& t = origin_.provider().timeouts;
  Clock::duration limit = phase == Timeout::first_byte ? Clock::duration(t.first_byte)
                          : phase == Timeout::connect  ? Clock::duration(t.connect)
                                                       : Clock::duration(t.idle);
  const auto left = deadline_ - Clock::now();
  capped_by_total_ = left <= limit;
  if (capped_by_total_) limit = std::max(left, Clock::duration::zero());
  conn_->deadline().expires_after(limit);
  return capped_by_total_ ? overall() : phase;
}

Failure Exchange::map_error(const boost::system::error_code& ec, Timeout phase) const {
  if (aborted_) return {Fault::aborted, Timeout::none, "cancelled: the client went away"};
  if (ec == beast::error::timeout ||
      (ec == asio::error::operation_aborted && conn_ && conn_->deadline().expired())) {
    const Timeout which = capped_by_total_ ? overall() : phase;
    return {Fault::timeout, which,
            "no response within the " + std::string(phase_name(which)) + " timeout"};
  }
  if (is_disconnect(ec))
    return {Fault::closed, Timeout::none,
            "the upstream closed the connection (" + ec.message() + ")"};
  if (ec.category() == http::make_error_code(http::error::bad_version).category())
    return {Fault::protocol, Timeout::none, "invalid HTTP response: " + ec.message()};
  return {Fault::closed, Timeout::none, "connection error: " + ec.message()};
}

Awaitable<Failure> Exchange::send(std::span<const asio::const_buffer> request) {
  const auto now = Clock::now();
  deadline_ = request_deadline_ - now < origin_.provider().timeouts.total
                  ? request_deadline_
                  : now + origin_.provider().timeouts.total;
  conn_ = origin_.take_idle();
  const bool reused = conn_ != nullptr;
  for (int attempt = 0;; ++attempt) {
    if (!conn_) {
      Failure f;
      const auto left = deadline_ - Clock::now();
      conn_ = co_await origin_.connect(
          std::min<Clock::duration>(origin_.provider().timeouts.connect, left), &f);
      if (aborted_) {
        if (conn_) conn_->close();
        co_return map_error({}, Timeout::none);
      }
      if (!conn_) {
        // The connect timeout was cut short by the overall limit: that limit is what ran out.
        if (f.fault == Fault::timeout && Clock::now() >= deadline_) {
          f.timeout = overall();
          f.detail = "no connection within the " + std::string(phase_name(f.timeout)) + " timeout";
        }
        co_return f;
      }
    }
    bool stale = false;
    Failure f = co_await try_send(request, &stale);
    if (!f || !stale || !reused || attempt > 0 || aborted_) co_return f;
    // The pooled connection died while idle (the server's keep-alive timeout raced our reuse):
    // the request never reached a live server, so a fresh connection gets it.
    conn_->close();
    conn_.reset();
  }
}

Awaitable<Failure> Exchange::try_send(std::span<const asio::const_buffer> request, bool* stale) {
  parser_.reset();
  parser_.emplace(http1::Kind::response, conn_->head());
  conn_->buffer().clear();
  conn_->buffer().reserve(kRoom);

  const Timeout phase = arm(Timeout::first_byte);
  boost::system::error_code wec;
  // Over plain TCP the request usually goes out at once (see write_now); TLS writes go through
  // the TLS stream.
  const std::size_t now = conn_->tls() ? 0 : write_now(conn_->tcp().socket(), request, wec);
  if (!wec && now < asio::buffer_size(request)) {
    beast::buffers_suffix<std::span<const asio::const_buffer>> rest(request);
    rest.consume(now);
    std::size_t written = 0;
    std::tie(wec, written) = co_await asio::async_write(*conn_, rest, as_result);
  }
  if (wec) {
    *stale = is_disconnect(wec);
    co_return map_error(wec, phase);
  }
  // A connection that dies after the request was written is not stale but failed: the server
  // may have read the request, so it is not sent again here; the dispatcher's retry budget
  // decides, and counts it.
  auto& buffer = conn_->buffer();
  for (bool answer = true;; answer = false) {
    boost::system::error_code rec;
    std::size_t got = 0;
    if (answer)
      std::tie(rec, got) = co_await conn_->async_read_answer(read_room(), as_result);
    else
      std::tie(rec, got) = co_await conn_->async_read_some(read_room(), as_result);
    if (const auto error = after_read(rec, got)) co_return map_error(error, phase);
    boost::system::error_code pec;
    buffer.consume(parser_->put(pending(buffer), pec));
    if (parser_->is_header_done()) {
      event_stream_ = says_event_stream(header("content-type"));
      co_return Failure{};
    }
    if (pec && pec != http::error::need_more) co_return map_error(pec, phase);
  }
}

asio::mutable_buffer Exchange::read_room() {
  auto& buffer = conn_->buffer();
  room_ = beast::read_size(buffer, kMaxReadSize);
  return buffer.prepare(room_);
}

boost::system::error_code Exchange::after_read(boost::system::error_code ec, std::size_t got) {
  conn_->buffer().commit(got);
  last_read_full_ = got == room_;
  starved_ = false;
  // A body without a length ends with the connection; anything else is cut short.
  if (ec == asio::error::eof) {
    if (parser_->got_some())
      parser_->put_eof(ec);
    else
      ec = http::error::end_of_stream;
  }
  return ec;
}

void Exchange::size_stream_buffer() {
  // A slow stream may wait minutes for its next event: with thousands open, what each holds
  // while it waits is what the gateway's memory is, so it waits with kWaitRoom. A fast one, whose
  // last read filled the buffer, reads in larger pieces (each piece costs a read, a parse and a
  // write to the client).
  auto& buffer = conn_->buffer();
  if (!event_stream_ || buffer.size() > 0) return;
  if (!last_read_full_ && buffer.capacity() > kWaitRoom) {
    buffer.shrink_to_fit();
    buffer.reserve(kWaitRoom);
  } else if (last_read_full_) {
    buffer.reserve(std::min(2 * buffer.capacity(), kMaxStreamRoom));
  }
}

Failure Exchange::take(std::span<char> into, std::size_t* n) {
  auto& buffer = conn_->buffer();
  parser_->body_into(into);
  while (buffer.size() > 0 && !parser_->is_done() && parser_->room() > 0) {
    boost::system::error_code ec;
    const std::size_t used = parser_->put(pending(buffer), ec);
    buffer.consume(used);
    if (ec == http::error::need_more) {
      starved_ = true;  // a chunk header split between reads
      break;
    }
    if (ec == http::error::need_buffer) break;
    if (ec) return map_error(ec, Timeout::idle);
  }
  *n = into.size() - parser_->room();
  return Failure{};
}

namespace {
// Where read_body_bytes puts body bytes: a caller's span, or room made in an event parser for
// as many bytes as arrived.
struct SpanRoom {
  std::span<char> into;
  std::span<char> operator()(std::size_t) const { return into; }
  void commit(std::size_t) const {}
};
struct EventRoom {
  SseParser& events;
  std::span<char> operator()(std::size_t k) const { return {events.prepare(k), k}; }
  void commit(std::size_t n) const { events.commit(n); }
};
}  // namespace

// One coroutine frame a read: the wait for bytes is inline, not a coroutine of its own.
template <class Room>
Awaitable<Failure> Exchange::read_body_bytes(Room room, std::size_t* n, bool first) {
  *n = 0;
  auto& buffer = conn_->buffer();
  while (!parser_->is_done()) {
    if (starved_ || buffer.size() == 0) {
      size_stream_buffer();
      const Timeout phase = arm(first ? Timeout::first_byte : Timeout::idle);
      auto [ec, got] = co_await conn_->async_read_some(read_room(), as_result);
      if (const auto error = after_read(ec, got)) co_return map_error(error, phase);
      continue;
    }
    Failure f = take(room(buffer.size()), n);
    room.commit(*n);
    if (f || *n > 0) co_return f;
  }
  co_return Failure{};
}

Awaitable<Failure> Exchange::read_some(SseParser& events, std::size_t* n, bool first) {
  return read_body_bytes(EventRoom{events}, n, first);
}

Awaitable<Failure> Exchange::read_body(std::string& out, std::size_t limit) {
  while (!parser_->is_done()) {
    // Grow by what is still to come when the length is known: resize() zero-fills, and filling
    // a large default chunk for a small body would cost more than reading it.
    std::size_t chunk = kBodyReadChunk;
    if (auto left = parser_->content_length_remaining(); left && *left > 0)
      chunk = static_cast<std::size_t>(std::min<std::uint64_t>(*left, limit + 1));
    const std::size_t old = out.size();
    out.resize(old + chunk);
    std::size_t got = 0;
    const SpanRoom room{{out.data() + old, chunk}};  // named: GCC 12 and braced temporaries
    Failure f = co_await read_body_bytes(room, &got, false);
    out.resize(old + got);
    if (f) co_return f;
    if (out.size() > limit)
      co_return Failure{Fault::too_large, Timeout::none,
                        "response body larger than " + std::to_string(limit) + " bytes"};
  }
  co_return Failure{};
}

void Exchange::finish() {
  if (!conn_) return;
  if (!aborted_ && parser_ && parser_->is_done() && parser_->keep_alive()) {
    origin_.put_idle(std::move(conn_));
  } else {
    conn_->close();
    conn_.reset();
  }
}

void Exchange::abort() {
  aborted_ = true;
  if (conn_) conn_->close();
}

}  // namespace switchyard::upstream

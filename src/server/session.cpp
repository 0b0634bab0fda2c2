#include "session.hpp"

#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>
#include <cstring>

#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/telemetry/trace_context.hpp"

namespace switchyard::server {

namespace {

namespace http = beast::http;
constexpr std::size_t kMaxClientRequestId = 128;
constexpr std::size_t kReadSize = 4096;
// A chunked body's first room; it doubles as the chunks fill it.
constexpr std::size_t kChunkedRoom = 4096;
// What a connection keeps of a request's head and body for the next (more is freed once the
// request is served): a connection that waits for its next request, or relays a long stream,
// holds no more than this for the last one.
constexpr std::size_t kKeptRequestBytes = 4096;

// "req_" and 24 hex digits, into `out`.
std::string_view new_request_id(std::array<char, 28>& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::memcpy(out.data(), "req_", 4);
  std::uint64_t a = telemetry::random_u64(), b = telemetry::random_u64();
  for (int i = 4; i < 20; ++i, a >>= 4) out[static_cast<std::size_t>(i)] = kHex[a & 0xF];
  for (int i = 20; i < 28; ++i, b >>= 4) out[static_cast<std::size_t>(i)] = kHex[b & 0xF];
  return {out.data(), out.size()};
}

// A client's own request id is kept when it is short and plain enough to log and echo safely.
bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxClientRequestId) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Session::Session(Worker& worker, Socket socket)
    : worker_(worker),
      stream_(std::move(socket)),
      read_deadline_(stream_.socket()),
      responder_(stream_, worker.limits()) {
  boost::system::error_code ec;
  client_ = stream_.socket().remote_endpoint(ec).address();
  over_limit_ = worker_.open_connection(client_);
  worker_.add(*this);
}

Session::~Session() {
  worker_.connection_closed(client_);
}

beast::error_code Session::parse_buffered() {
  std::string& body = request_.body();
  for (;;) {
    beast::error_code ec;
    const auto bytes = buffer_.data();
    const std::size_t used =
        parser_->put({static_cast<const char*>(bytes.data()), bytes.size()}, ec);
    buffer_.consume(used);
    if (parser_->is_done()) {
      body.resize(body.size() - parser_->room());
      return {};
    }
    if (ec == http::error::need_more) return {};
    if (ec && ec != http::error::need_buffer) return ec;
    // The head is in, or the body has filled its room. The room is the end of `body`: the bytes
    // before it are the body so far. A length is made room for at once (the parser has checked
    // it against max_body), chunks by doubling.
    if (parser_->room() == 0) {
      const std::size_t written = body.size();
      const auto left = parser_->content_length_remaining();
      body.resize(left ? written + *left
                       : std::min(std::max<std::size_t>(2 * written, kChunkedRoom),
                                  worker_.limits().max_body));
      parser_->body_into({body.data() + written, body.size() - written});
    }
    if (buffer_.size() == 0) return {};
  }
}

void Session::on_drain() {
  if (idle_) stream_.cancel();
}

void Session::shut_down() {
  // shutdown, not close: pending reads see EOF and the client watch sees the client "leave",
  // so in-flight upstream exchanges are cancelled the usual way.
  beast::error_code ignored;
  stream_.socket().shutdown(Socket::shutdown_both, ignored);
}

Awaitable<bool> Session::read_request() {
  const auto& limits = worker_.limits();
  idle_ = true;
  if (buffer_.size() == 0) {
    // Between requests only the idle timeout applies; a request that has begun must arrive
    // within the read timeout.
    if (worker_.draining()) co_return false;
    read_deadline_.expires_after(limits.idle_timeout);
    auto [ec, n] = co_await stream_.socket().async_read_some(buffer_.prepare(kReadSize), as_result);
    if (ec) co_return false;
    buffer_.commit(n);
  }
  idle_ = false;

  parser_.emplace(http1::Kind::request, request_, limits.max_header, limits.max_body);
  request_.body().clear();
  read_deadline_.expires_never();
  // A request usually arrives whole in one read: parse what is buffered right here, and only
  // wait — within the read timeout — for what is still missing.
  beast::error_code ec = parse_buffered();
  const bool wait = !ec && !parser_->is_done();
  if (wait) {
    read_deadline_.expires_after(limits.read_timeout);
    stream_.expires_never();  // what a response's write left on Beast's timer
  }
  bool head_seen = false;
  while (!ec && !parser_->is_done()) {
    std::size_t n = 0;
    if (parser_->is_header_done() && !std::exchange(head_seen, true) &&
        beast::iequals(request_.header("expect"), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      std::tie(ec, n) = co_await asio::async_write(stream_, asio::buffer(kContinue), as_result);
      if (ec) break;
    }
    std::tie(ec, n) =
        co_await stream_.socket().async_read_some(buffer_.prepare(kReadSize), as_result);
    if (ec) break;
    buffer_.commit(n);
    ec = parse_buffered();
  }
  if (wait) read_deadline_.expires_never();
  if (!ec) {
    // While the request is served (a stream may take minutes) and while the connection then
    // waits for the next, no read buffer is held: 4 KiB per connection, against a malloc of it
    // per request.
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    co_return true;
  }

  if (read_deadline_.expired()) ec = beast::error::timeout;
  if (ec != asio::error::operation_aborted && ec != asio::error::eof &&
      ec != asio::error::connection_reset)
    co_await refuse(ec);
  co_return false;
}

Awaitable<void> Session::refuse(beast::error_code ec) {
  const auto& limits = worker_.limits();
  api::ApiError error;
  if (ec == beast::error::timeout) {
    error = api::errors::request_timeout();
  } else if (ec == http::error::header_limit) {
    error = api::errors::header_too_large(limits.max_header);
  } else if (ec == http::error::body_limit) {
    error = api::errors::body_too_large(limits.max_body);
  } else {
    error = api::errors::malformed_http(ec.message());
  }
  std::array<char, 28> id;
  responder_.reset(new_request_id(id), 11, false);
  co_await responder_.send_error(error);
  telemetry::RequestRecord record;
  record.request_id = responder_.request_id();
  record.status = error.status;
  record.error = error.message;
  telemetry::log_request(record);
}

Awaitable<void> Session::run() {
  for (;;) {
    const bool have_request = co_await read_request();
    if (!have_request) break;
    std::array<char, 28> generated;
    std::string_view id;
    if (auto given = request_.find("x-request-id"); given && acceptable_request_id(*given)) {
      id = *given;
    } else {
      id = new_request_id(generated);
    }
    const bool keep_alive = parser_->keep_alive() && !worker_.draining() && !over_limit_;
    responder_.reset(id, request_.version(), keep_alive);
    if (over_limit_) {
      co_await responder_.send_error(*over_limit_);
      break;
    }
    // Held to the end: a reload meanwhile does not pull the configuration from under it.
    const auto gateway = worker_.gateway();
    // In this frame, made once a connection: a request's Context (its log record is 1.2 KiB)
    // would put the gateway's frame past the size Asio recycles, a malloc a request.
    request::Context context(request_, responder_);
    co_await gateway->handle(context);
    if (!responder_.keep_alive()) break;
    request_.release_beyond(kKeptRequestBytes);
  }
  beast::error_code ignored;
  stream_.socket().shutdown(Socket::shutdown_send, ignored);
  stream_.close();
}

Awaitable<void> serve_connection(Worker& worker, Socket socket) {
  Session session(worker, std::move(socket));
  co_await session.run();
}

}  // namespace switchyard::server

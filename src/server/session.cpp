#include "session.hpp"

#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <cstdint>
#include <cstring>

#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/telemetry/trace_context.hpp"

namespace switchyard::server {

namespace {

namespace http = beast::http;
constexpr std::size_t kMaxClientRequestId = 128;

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
      responder_(stream_, worker.limits()),
      over_limit_(worker.over_connection_limit()) {
  worker_.add(*this);
}

Session::~Session() {
  worker_.connection_closed();
}

beast::error_code Session::parse_buffered() {
  beast::error_code ec;
  while (buffer_.size() > 0 && !parser_->is_done()) {
    const std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == beast::http::error::need_more) return {};
    if (ec || used == 0) break;
  }
  return ec;
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
    auto [ec, n] = co_await stream_.socket().async_read_some(buffer_.prepare(4096), as_result);
    if (ec) co_return false;
    buffer_.commit(n);
  }
  idle_ = false;

  parser_.reset();
  arena_.release();
  parser_.emplace(std::piecewise_construct, std::make_tuple(),
                  std::make_tuple(std::pmr::polymorphic_allocator<char>(&arena_)));
  parser_->header_limit(static_cast<std::uint32_t>(limits.max_header));
  parser_->body_limit(limits.max_body);
  read_deadline_.expires_never();
  // A request usually arrives whole in one read: parse what is buffered right here, and only
  // wait — within the read timeout — for what is still missing.
  beast::error_code ec = parse_buffered();
  std::size_t n = 0;
  const bool wait = !ec && !parser_->is_done();
  if (wait) {
    read_deadline_.expires_after(limits.read_timeout);
    stream_.expires_never();  // what a response's write left on Beast's timer
  }
  if (wait && !parser_->is_header_done())
    std::tie(ec, n) = co_await http::async_read_header(stream_, buffer_, *parser_, as_result);
  if (wait && !ec && !parser_->is_done()) {
    const auto& req = parser_->get();
    if (auto it = req.find(http::field::expect);
        it != req.end() && beast::iequals(it->value(), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      std::tie(ec, n) = co_await asio::async_write(stream_, asio::buffer(kContinue), as_result);
    }
    if (!ec) std::tie(ec, n) = co_await http::async_read(stream_, buffer_, *parser_, as_result);
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
  if (ec == asio::error::operation_aborted || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == http::error::end_of_stream)
    co_return false;
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
  co_return false;
}

Awaitable<void> Session::run() {
  for (;;) {
    const bool have_request = co_await read_request();
    if (!have_request) break;
    const auto& request = parser_->get();
    std::array<char, 28> generated;
    std::string_view id;
    if (auto it = request.find("x-request-id");
        it != request.end() && acceptable_request_id(it->value())) {
      id = it->value();
    } else {
      id = new_request_id(generated);
    }
    const bool keep_alive = request.keep_alive() && !worker_.draining() && !over_limit_;
    responder_.reset(id, request.version(), keep_alive);
    if (over_limit_) {
      co_await responder_.send_error(api::errors::too_many_connections());
      break;
    }
    // Held to the end: a reload meanwhile does not pull the configuration from under it.
    const auto gateway = worker_.gateway();
    co_await gateway->handle(request, responder_);
    if (!responder_.keep_alive()) break;
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

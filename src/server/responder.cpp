#include "switchyard/server/responder.hpp"

#include "switchyard/request/cancellation.hpp"

#include <sys/socket.h>

#include <array>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/http/status.hpp>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <utility>

namespace switchyard::server {

namespace {

// The Date header, formatted at most once a second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local char text[64];
  thread_local std::size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_at = now;
  }
  return {text, length};
}

void append_number(std::string& out, std::uint64_t v, int base = 10) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, v, base);
  out.append(digits, end);
}

}  // namespace

Responder::Responder(TcpStream& stream, const config::Server& limits)
    : stream_(stream), limits_(limits) {}

void Responder::reset(std::string_view request_id, unsigned http_version, bool keep_alive) {
  request_id_.assign(request_id);
  extra_headers_.clear();
  version_ = http_version;
  keep_alive_ = keep_alive;
  committed_ = false;
  chunked_ = false;
  status_ = 0;
  bytes_sent_ = 0;
}

void Responder::add_header(std::string_view name, std::string_view value) {
  extra_headers_ += name;
  extra_headers_ += ": ";
  extra_headers_ += value;
  extra_headers_ += "\r\n";
}

void Responder::start_head(int status) {
  status_ = status;
  committed_ = true;
  head_.clear();
  head_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  append_number(head_, static_cast<std::uint64_t>(status));
  head_ += ' ';
  const auto reason = beast::http::obsolete_reason(static_cast<beast::http::status>(status));
  head_.append(reason.data(), reason.size());
  head_ += "\r\nDate: ";
  head_ += http_date();
  head_ += "\r\nx-request-id: ";
  head_ += request_id_;
  head_ += "\r\n";
  head_ += extra_headers_;
  if (!keep_alive_) {
    head_ += "Connection: close\r\n";
  } else if (version_ == 10) {
    head_ += "Connection: keep-alive\r\n";
  }
}

Awaitable<bool> Responder::write(std::span<const asio::const_buffer> buffers) {
  if (failed_) co_return false;
  beast::error_code ec;
  const std::size_t now = write_now(stream_.socket(), buffers, ec);
  bytes_sent_ += now;
  if (!ec && now < asio::buffer_size(buffers)) {
    beast::buffers_suffix<std::span<const asio::const_buffer>> rest(buffers);
    rest.consume(now);
    stream_.expires_after(limits_.write_timeout);
    std::size_t later = 0;
    std::tie(ec, later) = co_await asio::async_write(stream_, rest, as_result);
    bytes_sent_ += later;
  }
  if (ec) {
    failed_ = true;
    keep_alive_ = false;
  }
  co_return !ec;
}

Awaitable<bool> Responder::send(int status, std::string_view content_type, std::string_view body) {
  start_head(status);
  if (!content_type.empty()) {
    head_ += "Content-Type: ";
    head_ += content_type;
    head_ += "\r\n";
  }
  head_ += "Content-Length: ";
  append_number(head_, body.size());
  head_ += "\r\n\r\n";
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(body)};
  co_return co_await write(buffers);
}

Awaitable<bool> Responder::begin_stream(int status, std::string_view content_type) {
  start_head(status);
  head_ += "Content-Type: ";
  head_ += content_type;
  head_ += "\r\nCache-Control: no-cache\r\n";
  // HTTP/1.0 has no chunked encoding: the end of the body is the end of the connection.
  chunked_ = version_ != 10;
  if (chunked_) {
    head_ += "Transfer-Encoding: chunked\r\n";
  } else {
    keep_alive_ = false;
  }
  head_ += "\r\n";
  const std::array<asio::const_buffer, 1> buffers{asio::buffer(head_)};
  const bool written = co_await write(buffers);
  // A stream may run for minutes: the head's room is not held meanwhile.
  head_ = std::string();
  extra_headers_ = std::string();
  co_return written;
}

Awaitable<bool> Responder::write_chunk(std::string_view data) {
  if (data.empty()) co_return !failed_;
  if (!chunked_) {
    const std::array<asio::const_buffer, 1> buffers{asio::buffer(data)};
    co_return co_await write(buffers);
  }
  char size_line[24];
  auto [end, ec] = std::to_chars(size_line, size_line + 20, data.size(), 16);
  *end++ = '\r';
  *end++ = '\n';
  const std::array<asio::const_buffer, 3> buffers{
      asio::buffer(size_line, static_cast<std::size_t>(end - size_line)), asio::buffer(data),
      asio::buffer("\r\n", 2)};
  co_return co_await write(buffers);
}

Awaitable<bool> Responder::end_stream() {
  if (!chunked_) co_return !failed_;
  const std::array<asio::const_buffer, 1> buffers{asio::buffer("0\r\n\r\n", 5)};
  co_return co_await write(buffers);
}

void Responder::watch_client(request::Cancellation& cancel) {
  watch_->cancel = &cancel;
  watch_->armed = false;
}

void Responder::arm_watch() {
  if (!watch_->cancel || watch_->armed) return;
  watch_->armed = true;
  // A plain completion handler, not a coroutine raced with ||: no parallel group, no frames.
  stream_.socket().async_wait(
      asio::socket_base::wait_read,
      asio::bind_cancellation_slot(
          unwatch_.slot(), [state = watch_, &socket = stream_.socket()](beast::error_code ec) {
            if (ec == asio::error::operation_aborted || !state->cancel) return;
            bool gone = static_cast<bool>(ec);
            if (!gone) {
              char byte;
              const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
              gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
              // n > 0: the next pipelined request, not a hang-up; the watch ends here.
            }
            request::Cancellation* to_tell = std::exchange(state->cancel, nullptr);
            if (gone) to_tell->abort();
          }));
}

void Responder::unwatch_client() {
  const bool pending = watch_->armed && watch_->cancel;
  watch_->cancel = nullptr;
  watch_->armed = false;
  if (pending) unwatch_.emit(asio::cancellation_type::terminal);
}

}  // namespace switchyard::server

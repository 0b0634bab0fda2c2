// One keep-alive connection to an upstream origin, plain TCP or TLS, usable as a Beast
// AsyncStream either way; and the Origin that makes and pools them (one per provider per worker
// thread, so nothing here is shared between threads).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/http1/parser.hpp"
#include "switchyard/read_answer.hpp"
#include "switchyard/socket_deadline.hpp"
#include "switchyard/upstream/idle_list.hpp"

namespace switchyard::upstream {

using Clock = std::chrono::steady_clock;

class Connection {
 public:
  using executor_type = Executor;
  using TlsStream = beast::ssl_stream<TcpStream>;

  explicit Connection(TcpStream tcp) : stream_(std::move(tcp)), deadline_(this->tcp().socket()) {}
  Connection(TcpStream tcp, asio::ssl::context& ctx)
      : stream_(std::in_place_type<TlsStream>, std::move(tcp), ctx),
        deadline_(this->tcp().socket()) {}

  executor_type get_executor() { return tcp().get_executor(); }
  TcpStream& tcp();
  TlsStream* tls() { return std::get_if<TlsStream>(&stream_); }

  // Reads over plain TCP go to the socket itself (the connection's deadline() limits them, not
  // Beast's per-operation timer); over TLS through the TLS stream. An answer read is the first
  // after a request was written, which need not try the socket first (read_answer.hpp).
  template <class Token>
  auto async_read_some(asio::mutable_buffer b, Token&& token) {
    return read<false>(b, std::forward<Token>(token));
  }
  template <class Token>
  auto async_read_answer(asio::mutable_buffer b, Token&& token) {
    return read<true>(b, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& bufs) {
          std::visit([&](auto& s) { s.async_write_some(bufs, std::move(handler)); }, stream_);
        },
        token, b);
  }

  // True when the peer closed (or sent something unasked) while the connection sat idle: an
  // idle HTTP/1.1 connection has nothing to read, so anything readable means it is done. Asked
  // of the socket itself at each reuse (a peek), not of a read kept pending while idle: that
  // would know of a close only once the event loop had seen it, and a close that came just
  // before the reuse would cost the request.
  bool peer_gone();
  void close();

  // The limit on what is pending on the connection (reads, and writes the socket did not take
  // at once); Beast's own stream timer is not used once the connection is open.
  SocketDeadline& deadline() { return deadline_; }
  beast::flat_buffer& buffer() { return buffer_; }
  // Where a response's head is read, kept with the connection so its capacity serves every
  // response on it.
  http1::Head& head() { return head_; }

 private:
  template <bool Answer, class Token>
  auto read(asio::mutable_buffer b, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer into) {
          if (auto* s = tls())
            s->async_read_some(into, std::move(handler));
          else if constexpr (Answer)
            switchyard::async_read_answer(tcp().socket(), into, std::move(handler));
          else
            tcp().socket().async_read_some(into, std::move(handler));
        },
        token, b);
  }

  std::variant<TcpStream, TlsStream> stream_;
  SocketDeadline deadline_;
  beast::flat_buffer buffer_;  // response bytes read past what the parser consumed
  http1::Head head_;
};

// Why an upstream exchange did not produce a response.
enum class Fault {
  none,
  connect_failed,  // DNS, refused, unreachable
  tls_failed,      // handshake or certificate verification
  timeout,         // see Timeout for which one
  closed,          // reset or EOF before the response was complete
  protocol,        // not HTTP/1.1 as we know it, or not what the provider's format says
  too_large,       // response over the gateway's limit
  aborted,         // we cancelled it (client went away)
};

// deadline: the request's own deadline (across all its attempts) came first.
enum class Timeout { none, connect, first_byte, idle, total, deadline };

struct Failure {
  Fault fault = Fault::none;
  Timeout timeout = Timeout::none;
  std::string detail;  // human-readable, never contains secrets
  explicit operator bool() const { return fault != Fault::none; }
};

// An upstream origin as seen by one worker: where to connect, how to verify it, and its idle
// connections.
class Origin {
 public:
  Origin(Executor ex, const config::Provider& provider);
  ~Origin();
  Origin(const Origin&) = delete;
  Origin& operator=(const Origin&) = delete;

  const config::Provider& provider() const { return provider_; }

  // A pooled connection that still looks alive, or nullptr.
  std::unique_ptr<Connection> take_idle();
  void put_idle(std::unique_ptr<Connection> conn);
  // Closes idle connections that have expired.
  void sweep();
  // Closes every idle connection (shutdown), and those that come back from use later: the timer of
  // an idle connection's deadline would keep the worker's io_context from running out of work.
  void close_idle();

  // Opens one connection ahead of need when none is idle and none is being opened, so the next
  // request (a hedge, typically) does not pay the TCP and TLS handshakes.
  Awaitable<void> warm();
  bool has_idle() const { return idle_.size() > 0; }

  // Opens a new connection (resolve, connect, TLS handshake) within `timeout`.
  Awaitable<std::unique_ptr<Connection>> connect(Clock::duration timeout, Failure* failure);

 private:
  // Resolves the origin's host into endpoints_; false, with the failure, when it cannot.
  Awaitable<bool> resolve(Failure* failure);

  Executor ex_;
  config::Provider provider_;
  std::optional<asio::ssl::context> tls_;
  IdleList<Connection> idle_;
  std::vector<asio::ip::tcp::endpoint> endpoints_;  // resolved addresses, cached briefly
  Clock::time_point endpoints_expiry_{};
  bool warming_ = false;
  bool closed_ = false;  // close_idle() was called
};

}  // namespace switchyard::upstream

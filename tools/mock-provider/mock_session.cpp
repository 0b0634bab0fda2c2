#include "mock_session.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <type_traits>

namespace switchyard::mock {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Generous: a gateway keeps idle upstream connections in its pool and tests assert on
// connections_open, so the mock must not close them behind the gateway's back mid-test.
constexpr auto kIdleTimeout = 300s;
// Bounds one read or write on a peer that stalled without closing; a mock must not hang forever.
constexpr auto kIoTimeout = 30s;
constexpr auto kHandshakeTimeout = 10s;
// A TLS close waits for the peer's close_notify; most clients just close, so don't wait long.
constexpr auto kShutdownTimeout = 1s;
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::uint64_t kBodyLimit = 64 * 1024 * 1024;
// While a response sleeps, bytes the peer pipelines are read into the request buffer (that is
// how a close is noticed); past this much the mock stops reading and just sleeps.
constexpr std::size_t kWatchReadSize = 4096;
constexpr std::size_t kMaxWatchBuffered = 1024 * 1024;

// Read errors that mean the peer went away (or stalled), as opposed to sending garbage.
bool is_peer_gone(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec.category() != http::make_error_code(http::error::bad_target).category();
}

template <class Stream>
class MockSession final : public ResponseChannel {
 public:
  template <class... StreamArgs>
  explicit MockSession(const MockEndpoints& endpoints, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...), endpoints_(endpoints) {}

  asio::awaitable<void> run() {
    try {
      co_await serve_requests();
    } catch (const std::exception& e) {
      // A bug, not a client's fault; keep serving other connections and say what happened.
      std::cerr << "switchyard-mock: connection failed: " << e.what() << std::endl;
    }
    cut();
  }

  asio::awaitable<bool> send(http::response<http::string_body>& response) override {
    if (trickle_gap_ > 0ms) {
      std::ostringstream text;
      if (answering_head_) {
        text << response.base();
      } else {
        text << response;
      }
      co_return co_await write_trickled(std::move(text).str());
    }
    tcp().expires_after(kIoTimeout);
    if (answering_head_) {
      // The answer to HEAD is the head alone (RFC 9110 §9.3.2), or the client would read the
      // body as the start of the next response.
      http::response_serializer<http::string_body> serializer(response);
      auto [ec, bytes] = co_await http::async_write_header(stream_, serializer, kUseTuple);
      co_return !ec;
    }
    auto [ec, bytes] = co_await http::async_write(stream_, response, kUseTuple);
    co_return !ec;
  }

  asio::awaitable<bool> send_chunked_head(http::response<http::empty_body>& head) override {
    if (trickle_gap_ > 0ms) {
      std::ostringstream text;
      text << head.base();
      co_return co_await write_trickled(std::move(text).str());
    }
    tcp().expires_after(kIoTimeout);
    http::response_serializer<http::empty_body> serializer(head);
    auto [ec, bytes] = co_await http::async_write_header(stream_, serializer, kUseTuple);
    co_return !ec;
  }

  asio::awaitable<bool> send_chunk(std::string_view bytes) override {
    if (bytes.empty()) co_return true;  // an empty chunk would end the body
    if (trickle_gap_ > 0ms) {
      co_return co_await write_trickled(
          beast::buffers_to_string(http::make_chunk(asio::buffer(bytes))));
    }
    tcp().expires_after(kIoTimeout);
    auto [ec, written] =
        co_await asio::async_write(stream_, http::make_chunk(asio::buffer(bytes)), kUseTuple);
    co_return !ec;
  }

  asio::awaitable<bool> send_last_chunk() override {
    if (trickle_gap_ > 0ms) {
      co_return co_await write_trickled(beast::buffers_to_string(http::make_chunk_last()));
    }
    tcp().expires_after(kIoTimeout);
    auto [ec, written] = co_await asio::async_write(stream_, http::make_chunk_last(), kUseTuple);
    co_return !ec;
  }

  asio::awaitable<bool> sleep_watching_peer(std::chrono::milliseconds delay) override {
    if (delay <= 0ms) co_return true;
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    tcp().expires_never();
    // Reading (rather than peeking at the socket) works the same through TLS, where a close
    // arrives as a close_notify record or a truncated stream. Anything the peer sends instead
    // is the next pipelined request: it is kept in buffer_ for the next read.
    //
    // A parallel group rather than awaitable_operators' `||`: `||` drops the loser's result,
    // and a read that completed just as the timer fired would lose pipelined request bytes.
    while (buffer_.size() < kMaxWatchBuffered) {
      auto [order, timer_ec, read_ec, bytes] =
          co_await asio::experimental::make_parallel_group(
              timer.async_wait(asio::deferred),
              async_read_some(buffer_.prepare(kWatchReadSize), asio::deferred))
              .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
      buffer_.commit(bytes);
      if (read_ec && read_ec != asio::error::operation_aborted) co_return false;
      if (order[0] == 0) co_return true;
    }
    co_await timer.async_wait(kUseTuple);
    co_return true;
  }

  void trickle(std::chrono::milliseconds gap) override { trickle_gap_ = gap; }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  // stream_.async_read_some for any completion token: Beast's ssl_stream still uses the old
  // async_result::return_type protocol, which asio::deferred (and so parallel_group) lacks.
  template <class CompletionToken>
  auto async_read_some(asio::mutable_buffer buffer, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(beast::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer into) {
          stream_.async_read_some(into, std::move(handler));
        },
        token, buffer);
  }

  asio::awaitable<void> serve_requests() {
    if constexpr (kTls) {
      tcp().expires_after(kHandshakeTimeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kUseTuple);
      if (ec) co_return;
    }
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);

      tcp().expires_after(kIdleTimeout);
      auto [header_ec, header_bytes] =
          co_await http::async_read_header(stream_, buffer_, parser, kUseTuple);
      if (header_ec) {
        co_await end_after_read_error(header_ec);
        co_return;
      }
      // curl and others wait (up to a second) for this before sending a large body.
      if (boost::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on(http::status::continue_, 11);
        const bool sent = co_await send_interim(go_on);
        if (!sent) co_return;
      }
      if (!parser.is_done()) {
        tcp().expires_after(kIoTimeout);
        auto [body_ec, body_bytes] = co_await http::async_read(stream_, buffer_, parser, kUseTuple);
        if (body_ec) {
          co_await end_after_read_error(body_ec);
          co_return;
        }
      }

      http::request<http::string_body> request = parser.release();
      answering_head_ = request.method() == http::verb::head;
      trickle_gap_ = 0ms;  // each response asks for its own
      trickled_any_ = false;
      const ConnectionFate fate = co_await endpoints_.handle(request, *this);
      switch (fate) {
        case ConnectionFate::keep_alive:
          continue;
        case ConnectionFate::close:
          co_await shut_down();
          co_return;
        case ConnectionFate::cut:
          co_return;
      }
    }
  }

  // One byte per write, trickle_gap_ after the previous byte of the same response.
  asio::awaitable<bool> write_trickled(std::string bytes) {
    for (const char& byte : bytes) {
      if (trickled_any_) {
        const bool waited = co_await sleep_watching_peer(trickle_gap_);
        if (!waited) co_return false;
      }
      trickled_any_ = true;
      tcp().expires_after(kIoTimeout);
      auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(&byte, 1), kUseTuple);
      if (ec) co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> send_interim(http::response<http::empty_body>& response) {
    tcp().expires_after(kIoTimeout);
    auto [ec, bytes] = co_await http::async_write(stream_, response, kUseTuple);
    co_return !ec;
  }

  // Garbage gets a 400 and a closed connection: after a parse error the stream position of the
  // next request is unknown.
  asio::awaitable<void> end_after_read_error(const beast::error_code& ec) {
    if (is_peer_gone(ec)) co_return;
    const int status = ec == http::error::body_limit ? 413 : 400;
    http::response<http::string_body> response(static_cast<http::status>(status), 11);
    response.set(http::field::server, "switchyard-mock");
    response.set(http::field::content_type, "application/json");
    response.keep_alive(false);
    response.body() = endpoints_.malformed_http_body(ec.message());
    response.prepare_payload();
    const bool sent = co_await send(response);
    if (sent) co_await shut_down();
  }

  asio::awaitable<void> shut_down() {
    if constexpr (kTls) {
      tcp().expires_after(kShutdownTimeout);
      co_await stream_.async_shutdown(kUseTuple);
    } else {
      beast::error_code ignored;
      tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    }
  }

  // Closes without any shutdown: for a peer that is gone, and for scripted drops, which must
  // look to the client like a provider that died mid-response.
  void cut() { tcp().close(); }

  Stream stream_;
  beast::flat_buffer buffer_;
  const MockEndpoints& endpoints_;
  bool answering_head_ = false;
  std::chrono::milliseconds trickle_gap_{0};  // 0: whole writes
  bool trickled_any_ = false;                 // a byte of this response went out trickled
};

}  // namespace

asio::awaitable<void> serve_plain_connection(asio::ip::tcp::socket socket,
                                             [[maybe_unused]] OpenConnection open,
                                             const MockEndpoints& endpoints) {
  MockSession<beast::tcp_stream> session(endpoints, std::move(socket));
  co_await session.run();
}

asio::awaitable<void> serve_tls_connection(asio::ip::tcp::socket socket,
                                           [[maybe_unused]] OpenConnection open,
                                           asio::ssl::context& tls,
                                           const MockEndpoints& endpoints) {
  MockSession<beast::ssl_stream<beast::tcp_stream>> session(endpoints, std::move(socket), tls);
  co_await session.run();
}

}  // namespace switchyard::mock

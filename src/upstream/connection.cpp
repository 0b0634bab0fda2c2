#include "switchyard/upstream/connection.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/this_coro.hpp>

namespace switchyard::upstream {

namespace {

constexpr auto kResolveCacheTime = std::chrono::seconds(30);

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string tls_error_detail(const boost::system::error_code& ec, SSL* ssl) {
  std::string detail = "TLS handshake failed: " + ec.message();
  if (ssl) {
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK)
      detail += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
  }
  return detail;
}

}  // namespace

TcpStream& Connection::tcp() {
  if (auto* s = std::get_if<TlsStream>(&stream_)) return s->next_layer();
  return std::get<TcpStream>(stream_);
}

bool Connection::peer_gone() {
  if (buffer_.size() > 0) return true;
  auto& socket = tcp().socket();
  if (!socket.is_open()) return true;
  char byte;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || n > 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

void Connection::close() {
  boost::system::error_code ignored;
  tcp().socket().shutdown(Socket::shutdown_both, ignored);
  tcp().socket().close(ignored);
}

Origin::Origin(Executor ex, const config::Provider& provider)
    : ex_(std::move(ex)),
      provider_(provider),
      idle_(provider.pool.max_idle, provider.pool.idle_expiry) {
  if (!provider_.base_url.tls) return;
  tls_.emplace(asio::ssl::context::tls_client);
  tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
  tls_->set_default_verify_paths();
  if (!provider_.ca_file.empty()) tls_->load_verify_file(provider_.ca_file);
  tls_->set_verify_mode(asio::ssl::verify_peer);
}

Origin::~Origin() {
  close_idle();
}

void Origin::close_idle() {
  closed_ = true;
  while (auto conn = idle_.take(Clock::now())) conn->close();
}

std::unique_ptr<Connection> Origin::take_idle() {
  while (auto conn = idle_.take(Clock::now())) {
    // Checked every time, however briefly it sat idle: a request sent on a connection the
    // server has already closed fails after it was written, and resending it then could bill a
    // prompt twice, so only a failed write is resent (see Exchange::send).
    if (!conn->peer_gone()) return conn;
    conn->close();
  }
  return nullptr;
}

void Origin::put_idle(std::unique_ptr<Connection> conn) {
  if (closed_) {
    conn->close();
    return;
  }
  conn->deadline().expires_never();
  idle_.put(std::move(conn), Clock::now());
}

Awaitable<void> Origin::warm() {
  if (warming_ || has_idle()) co_return;
  warming_ = true;
  Failure failure;  // a failed warm-up is the next request's to find out about
  auto conn = co_await connect(provider_.timeouts.connect, &failure);
  warming_ = false;
  if (conn) put_idle(std::move(conn));
}

void Origin::sweep() {
  idle_.expire(Clock::now());
}

Awaitable<bool> Origin::resolve(Failure* failure) {
  const auto now = Clock::now();
  asio::ip::tcp::resolver resolver(ex_);
  auto [ec, results] = co_await resolver.async_resolve(
      provider_.base_url.host, std::to_string(provider_.base_url.port), as_result);
  if (ec) {
    *failure = {Fault::connect_failed, Timeout::none,
                "cannot resolve " + provider_.base_url.host + ": " + ec.message()};
    co_return false;
  }
  endpoints_.clear();
  for (const auto& r : results) endpoints_.push_back(r.endpoint());
  endpoints_expiry_ = now + kResolveCacheTime;
  co_return !endpoints_.empty();
}

Awaitable<std::unique_ptr<Connection>> Origin::connect(Clock::duration timeout, Failure* failure) {
  const auto deadline = Clock::now() + timeout;
  if (endpoints_.empty() || Clock::now() >= endpoints_expiry_) {  // no frame for a cached answer
    const bool resolved = co_await resolve(failure);
    if (!resolved) co_return nullptr;
  }
  // A copy: a connect failing meanwhile on another coroutine clears the cache.
  const auto endpoints = endpoints_;

  TcpStream tcp(ex_);
  tcp.expires_at(deadline);
  auto [ec, ep] = co_await tcp.async_connect(endpoints, as_result);
  if (ec) {
    endpoints_.clear();  // the address may have moved: resolve again next time
    if (ec == beast::error::timeout) {
      *failure = {Fault::timeout, Timeout::connect,
                  "connect to " + provider_.base_url.authority + " timed out"};
    } else {
      *failure = {Fault::connect_failed, Timeout::none,
                  "connect to " + provider_.base_url.authority + " failed: " + ec.message()};
    }
    co_return nullptr;
  }
  tcp.socket().set_option(asio::ip::tcp::no_delay(true));
  tcp.socket().non_blocking(true);  // for write_now

  if (!tls_) {
    tcp.expires_never();  // from here on the connection's deadline() limits it
    co_return std::make_unique<Connection>(std::move(tcp));
  }

  auto conn = std::make_unique<Connection>(std::move(tcp), *tls_);
  SSL* ssl = conn->tls()->native_handle();
  const std::string& host = provider_.base_url.host;
  // SNI takes names only; the certificate check takes either.
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
  auto [hec] = co_await conn->tls()->async_handshake(asio::ssl::stream_base::client, as_result);
  if (hec) {
    if (hec == beast::error::timeout) {
      *failure = {Fault::timeout, Timeout::connect,
                  "TLS handshake with " + provider_.base_url.authority + " timed out"};
    } else {
      *failure = {Fault::tls_failed, Timeout::none, tls_error_detail(hec, ssl)};
    }
    co_return nullptr;
  }
  conn->tcp().expires_never();
  co_return conn;
}

}  // namespace switchyard::upstream

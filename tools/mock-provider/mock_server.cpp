#include "mock_server.hpp"

#include "mock_endpoints.hpp"
#include "mock_session.hpp"
#include "mock_stats.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace switchyard::mock {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Written beside the final file and renamed over it, so a test polling for the file never
// reads a half-written port number.
void write_port_file(const std::string& path, unsigned short port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + temporary + " to " + path);
  }
}

class MockServer {
 public:
  explicit MockServer(const MockConfig& config)
      : config_(config),
        defaults_(config.defaults),
        endpoints_(config_, stats_, defaults_),
        io_(config.threads),
        strand_(asio::make_strand(io_)),
        acceptor_(strand_),
        signals_(strand_, SIGINT, SIGTERM) {
    if (!config.tls_cert.empty()) {
      tls_.emplace(asio::ssl::context::tls_server);
      tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::single_dh_use);
      boost::system::error_code ec;
      tls_->use_certificate_chain_file(config.tls_cert, ec);
      if (ec)
        throw std::runtime_error("cannot load --tls-cert " + config.tls_cert + ": " + ec.message());
      tls_->use_private_key_file(config.tls_key, asio::ssl::context::pem, ec);
      if (ec)
        throw std::runtime_error("cannot load --tls-key " + config.tls_key + ": " + ec.message());
    }
    const tcp::endpoint endpoint(config.address, config.port);
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::ostringstream what;
      what << "cannot listen on " << endpoint << ": " << ec.message();
      throw std::runtime_error(what.str());
    }
  }

  int run() {
    const tcp::endpoint local = acceptor_.local_endpoint();
    std::cout << "listening on " << local << std::endl;
    if (!config_.port_file.empty()) write_port_file(config_.port_file, local.port());

    // Shutting down means: stop accepting, then stop the loop. Open sessions are not drained;
    // their frames are destroyed with the io_context, closing their sockets, which is what a
    // test tearing the mock down wants.
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      io_.stop();
    });
    asio::co_spawn(strand_, accept_loop(), asio::detached);

    std::vector<std::thread> workers;
    for (int i = 1; i < config_.threads; ++i) workers.emplace_back([this] { io_.run(); });
    io_.run();
    for (std::thread& worker : workers) worker.join();
    return 0;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      // Each connection gets its own strand, so with --threads > 1 its coroutine and the
      // operations it races against each other never run concurrently.
      auto [ec, socket] =
          co_await acceptor_.async_accept(asio::any_io_executor(asio::make_strand(io_)), kUseTuple);
      if (!acceptor_.is_open()) co_return;
      if (ec) {
        // EMFILE and the like: back off rather than spin on a listener that keeps failing.
        asio::steady_timer pause(strand_, std::chrono::milliseconds(10));
        co_await pause.async_wait(kUseTuple);
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);  // each SSE event leaves at once
      OpenConnection open(stats_);
      const asio::any_io_executor executor = socket.get_executor();
      if (tls_) {
        asio::co_spawn(executor,
                       serve_tls_connection(std::move(socket), std::move(open), *tls_, endpoints_),
                       asio::detached);
      } else {
        asio::co_spawn(executor,
                       serve_plain_connection(std::move(socket), std::move(open), endpoints_),
                       asio::detached);
      }
    }
  }

  // Declared before io_: session frames still queued in io_ when it is destroyed use them.
  const MockConfig& config_;
  MockStats stats_;
  MockDefaults defaults_;
  MockEndpoints endpoints_;
  std::optional<asio::ssl::context> tls_;
  asio::io_context io_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
};

}  // namespace

int run_mock_server(const MockConfig& config) {
  // Writes to a vanished peer must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    MockServer server(config);
    return server.run();
  } catch (const std::exception& e) {
    std::cerr << "switchyard-mock: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace switchyard::mock

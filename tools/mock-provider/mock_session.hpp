// One accepted connection of switchyard-mock, plain or TLS: reads requests one after another
// (keep-alive; pipelined requests simply wait in the read buffer), hands each to the endpoints
// and writes what they answer. Beast's advanced_server pattern, with coroutines.
#pragma once

#include "mock_endpoints.hpp"
#include "mock_stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

namespace switchyard::mock {

// The connection counts as open until the coroutine ends, however it ends.
boost::asio::awaitable<void> serve_plain_connection(boost::asio::ip::tcp::socket socket,
                                                    OpenConnection open,
                                                    const MockEndpoints& endpoints);
boost::asio::awaitable<void> serve_tls_connection(boost::asio::ip::tcp::socket socket,
                                                  OpenConnection open,
                                                  boost::asio::ssl::context& tls,
                                                  const MockEndpoints& endpoints);

}  // namespace switchyard::mock

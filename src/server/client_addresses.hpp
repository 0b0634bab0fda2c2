// How many connections each client address holds open, process-wide, so that one client cannot
// take every connection the gateway allows (server.max_connections_per_client). Counted only
// while that limit is set; a mutex around a map, touched once when a connection opens and once
// when it closes — never per request.
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace switchyard::server {

class ClientAddresses {
 public:
  // Counts a connection from `address`; false when that address already holds `limit` (the
  // connection is counted all the same, and must be closed with close()).
  bool open(const boost::asio::ip::address& address, std::size_t limit);
  void close(const boost::asio::ip::address& address);

 private:
  using Key = std::array<unsigned char, 16>;  // IPv6, an IPv4 address mapped into it
  struct Hash {
    std::size_t operator()(const Key& key) const;
  };
  static Key key_of(const boost::asio::ip::address& address);

  std::mutex mutex_;
  std::unordered_map<Key, std::uint32_t, Hash> open_;
};

}  // namespace switchyard::server

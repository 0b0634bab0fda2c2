#include "client_addresses.hpp"

#include <string_view>

namespace switchyard::server {

std::size_t ClientAddresses::Hash::operator()(const Key& key) const {
  return std::hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

ClientAddresses::Key ClientAddresses::key_of(const boost::asio::ip::address& address) {
  const auto v6 = address.is_v4() ? boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped,
                                                                     address.to_v4())
                                  : address.to_v6();
  return v6.to_bytes();
}

bool ClientAddresses::open(const boost::asio::ip::address& address, std::size_t limit) {
  const Key key = key_of(address);
  const std::lock_guard lock(mutex_);
  return ++open_[key] <= limit;
}

void ClientAddresses::close(const boost::asio::ip::address& address) {
  const Key key = key_of(address);
  const std::lock_guard lock(mutex_);
  const auto it = open_.find(key);
  if (it != open_.end() && --it->second == 0) open_.erase(it);
}

}  // namespace switchyard::server

#include "switchyard/request/http.hpp"

#include <stdexcept>

namespace switchyard::request {

HttpRequest::HttpRequest(std::string_view head, std::string body) : body_(std::move(body)) {
  const std::string wire = std::string(head) + "\r\n";
  http1::Parser parser(http1::Kind::request, *this);
  boost::system::error_code ec;
  parser.put(wire, ec);
  if (ec || !parser.is_done())
    throw std::invalid_argument("not an HTTP request head: " + ec.message());
}

}  // namespace switchyard::request

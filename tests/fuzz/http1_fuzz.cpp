// The HTTP/1.1 parser that reads every client request and every upstream response: any bytes end
// in a message or an error, never a crash or a parser that stops taking bytes without saying why;
// and bytes arriving in any pieces read exactly as all at once.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_input.hpp"
#include "switchyard/http1/parser.hpp"

#include <boost/beast/http/error.hpp>

using namespace switchyard;

namespace {

struct Outcome {
  int error = 0;  // the http::error value, 0 when the message was read whole
  std::string start, body;
  std::vector<std::pair<std::string, std::string>> fields;
  bool keep_alive = false;
  bool operator==(const Outcome&) const = default;
};

Outcome read(http1::Kind kind, std::string_view wire, std::size_t step) {
  Outcome out;
  http1::Head head;
  http1::Parser parser(kind, head, 4096, 64 * 1024);
  std::vector<char> room(256);
  std::size_t taken = 0;
  std::size_t arrived = std::min(step, wire.size());
  boost::system::error_code ec;
  for (int rounds = 0;; ++rounds) {
    SWITCHYARD_FUZZ_REQUIRE(rounds < 1'000'000);  // always progress, or say why not
    parser.body_into(room);
    taken += parser.put(wire.substr(taken, arrived - taken), ec);
    out.body.append(room.data(), room.size() - parser.room());
    if (parser.is_done()) break;
    if (ec == boost::beast::http::error::need_buffer) {  // the room is full: give it again
      ec = {};
      continue;
    }
    if (!ec && taken < arrived) continue;  // put() returns after the head
    if (ec && ec != boost::beast::http::error::need_more) break;
    ec = {};
    if (arrived == wire.size()) {
      parser.put_eof(ec);
      break;
    }
    arrived = std::min(arrived + step, wire.size());
  }
  out.error = ec.value();
  if (parser.is_header_done()) {
    out.start = kind == http1::Kind::request
                    ? std::string(head.method_string()) + " " + std::string(head.target())
                    : std::to_string(head.status());
    head.for_each_field([&](std::string_view name, std::string_view value) {
      out.fields.emplace_back(name, value);
    });
    // A request framed two ways is refused (request smuggling).
    SWITCHYARD_FUZZ_REQUIRE(kind == http1::Kind::response || !head.find("content-length") ||
                            !head.find("transfer-encoding") || out.error != 0);
  }
  out.keep_alive = parser.keep_alive();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const auto kind = input.choose(2) == 0 ? http1::Kind::request : http1::Kind::response;
  const std::size_t step = 1 + input.choose(64);
  const std::string_view wire = input.rest();
  SWITCHYARD_FUZZ_REQUIRE(read(kind, wire, wire.size() + 1) == read(kind, wire, step));
  return 0;
}

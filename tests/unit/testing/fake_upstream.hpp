// A scripted upstream for unit tests: a plain HTTP/1.1 server on a loopback port, in the test's
// own io_context, that answers each request with the next reply of its script and remembers what
// it was sent. Replies can be JSON, a server-sent event stream, a delay, or a dropped connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace switchyard::testing {

struct Reply {
  int status = 200;
  std::string body;  // sent whole, unless `events` are given
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // A stream: each string is written as one chunk (an SSE event with its blank line).
  std::vector<std::string> events;
  std::chrono::milliseconds delay{0};  // before the response head
  bool drop = false;                   // close the connection instead of answering
  bool cut = false;                    // close a stream after its events, without its end
  std::string raw;  // when set, sent as the whole response instead of one built from the above

  // An OpenAI chat completion whose answer is `text`, from `model`.
  static Reply completion(std::string_view text, std::string_view model = "upstream-model");
  // An OpenAI chat completion stream: a role chunk, one chunk per piece, a finish and [DONE].
  static Reply stream(const std::vector<std::string>& pieces,
                      std::string_view model = "upstream-model");
  static Reply error(int status, std::string_view message);
};

struct Seen {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class FakeUpstream {
 public:
  explicit FakeUpstream(boost::asio::io_context& io);
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  // "http://127.0.0.1:<port>"
  std::string url() const;
  // Appends to the script; a request past its end gets a 500.
  void script(Reply reply) { script_.push_back(std::move(reply)); }
  const std::vector<Seen>& seen() const { return seen_; }

 private:
  void accept();
  void serve(std::shared_ptr<boost::asio::ip::tcp::socket> socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::deque<Reply> script_;
  std::vector<Seen> seen_;
};

}  // namespace switchyard::testing

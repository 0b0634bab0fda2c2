// What switchyard-mock has seen, for tests to assert on through /_mock/stats and
// /_mock/requests: connection counters, per-endpoint request counts, stream outcomes and a log
// of recent requests with the exact bytes answered.
//
// One mutex guards everything: sessions may run on several threads (--threads) and the mock's
// throughput is irrelevant next to the exactness tests need.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace switchyard::mock {

// How a logged response ended.
enum class ResponseEnd {
  completed,  // fully sent
  aborted,    // the peer went away mid-response
  dropped,    // the mock cut the connection because a script said so (x-mock-drop-after)
};

class MockStats {
 public:
  // Identifies a log entry across reset(): an entry that was reset away is silently not updated.
  using EntryId = std::uint64_t;

  void connection_opened();
  void connection_closed();

  struct Recorded {
    EntryId id = 0;
    // The request's place among the scripted requests since start-up or the last reset(),
    // from 1: the `seq` of /_mock/requests.
    std::uint64_t seq = 0;
  };
  // Counts (by method and path) and logs one request of the scripted (non-/_mock/) endpoints.
  // `target` is the request line's target, query string included: Gemini's ?alt=sse and ?key=
  // and Azure's ?api-version= are part of what the gateway sent.
  Recorded record_request(std::string_view method, std::string_view path, std::string_view target,
                          std::map<std::string, std::string> headers, std::string body);
  void record_status(EntryId id, int status);
  void record_response_bytes(EntryId id, std::string_view bytes);
  void record_end(EntryId id, ResponseEnd end);

  // A stream's own outcome; the log entry of the request is updated separately.
  void stream_ended(ResponseEnd end);

  // The n of chatcmpl-mock-<name>-<n>.
  std::uint64_t next_completion_number();

  // Asked for over a connection of its own, which counts in connections_accepted and
  // connections_open like any other; other_connections_open leaves it out.
  std::string stats_json(std::string_view mock_name) const;
  // The last `limit` log entries, oldest first.
  std::string requests_json(std::size_t limit) const;

  // Zeroes every counter and empties the log; connections_open keeps its true value because
  // connections that are open stay open and will be closed (and counted down) later.
  void reset();

 private:
  struct LogEntry {
    EntryId id = 0;
    std::uint64_t seq = 0;
    std::string method;
    std::string path;
    std::string target;
    std::map<std::string, std::string> headers;
    std::string body;
    int status = 0;
    std::string response_body;
    bool completed = false;
    bool aborted = false;
  };

  // Keeps /_mock/requests bounded however long a test run is; 500 covers any single test.
  static constexpr std::size_t kMaxLogEntries = 500;

  LogEntry* find_entry(EntryId id);

  mutable std::mutex mutex_;
  std::uint64_t connections_accepted_ = 0;
  std::int64_t connections_open_ = 0;
  std::map<std::string, std::uint64_t, std::less<>> requests_;
  std::uint64_t streams_completed_ = 0;
  std::uint64_t streams_aborted_ = 0;
  std::uint64_t streams_dropped_ = 0;
  std::uint64_t completion_numbers_ = 0;
  std::uint64_t next_seq_ = 1;
  // Never reset, unlike seq, so an entry id cannot be reused by a request logged after reset().
  EntryId next_entry_id_ = 1;
  // Ids in the deque are consecutive, which makes find_entry() an index computation.
  std::deque<LogEntry> log_;
};

// Counts one accepted connection as open for as long as it lives; it travels with the
// connection's coroutine, so connections_open drops however that coroutine ends.
class OpenConnection {
 public:
  explicit OpenConnection(MockStats& stats) : stats_(&stats) { stats_->connection_opened(); }
  OpenConnection(OpenConnection&& other) noexcept : stats_(std::exchange(other.stats_, nullptr)) {}
  OpenConnection& operator=(OpenConnection&&) = delete;
  ~OpenConnection() {
    if (stats_ != nullptr) stats_->connection_closed();
  }

 private:
  MockStats* stats_;
};

}  // namespace switchyard::mock

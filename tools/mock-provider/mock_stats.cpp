#include "mock_stats.hpp"

#include "wire_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace switchyard::mock {

using json = nlohmann::ordered_json;

void MockStats::connection_opened() {
  std::lock_guard lock(mutex_);
  ++connections_accepted_;
  ++connections_open_;
}

void MockStats::connection_closed() {
  std::lock_guard lock(mutex_);
  --connections_open_;
}

MockStats::Recorded MockStats::record_request(std::string_view method, std::string_view path,
                                              std::string_view target,
                                              std::map<std::string, std::string> headers,
                                              std::string body) {
  std::string key;
  key.reserve(method.size() + 1 + path.size());
  key.append(method).append(" ").append(path);

  std::lock_guard lock(mutex_);
  ++requests_[key];
  LogEntry& entry = log_.emplace_back();
  entry.id = next_entry_id_++;
  entry.seq = next_seq_++;
  entry.method = std::string(method);
  entry.path = std::string(path);
  entry.target = std::string(target);
  entry.headers = std::move(headers);
  entry.body = std::move(body);
  const Recorded recorded{entry.id, entry.seq};
  if (log_.size() > kMaxLogEntries) log_.pop_front();
  return recorded;
}

MockStats::LogEntry* MockStats::find_entry(EntryId id) {
  if (log_.empty() || id < log_.front().id || id > log_.back().id) return nullptr;
  return &log_[id - log_.front().id];
}

void MockStats::record_status(EntryId id, int status) {
  std::lock_guard lock(mutex_);
  if (LogEntry* entry = find_entry(id)) entry->status = status;
}

void MockStats::record_response_bytes(EntryId id, std::string_view bytes) {
  std::lock_guard lock(mutex_);
  if (LogEntry* entry = find_entry(id)) entry->response_body.append(bytes);
}

void MockStats::record_end(EntryId id, ResponseEnd end) {
  std::lock_guard lock(mutex_);
  if (LogEntry* entry = find_entry(id)) {
    entry->completed = end == ResponseEnd::completed;
    entry->aborted = end == ResponseEnd::aborted;
  }
}

void MockStats::stream_ended(ResponseEnd end) {
  std::lock_guard lock(mutex_);
  switch (end) {
    case ResponseEnd::completed:
      ++streams_completed_;
      break;
    case ResponseEnd::aborted:
      ++streams_aborted_;
      break;
    case ResponseEnd::dropped:
      ++streams_dropped_;
      break;
  }
}

std::uint64_t MockStats::next_completion_number() {
  std::lock_guard lock(mutex_);
  return ++completion_numbers_;
}

std::string MockStats::stats_json(std::string_view mock_name) const {
  std::lock_guard lock(mutex_);
  json requests = json::object();
  for (const auto& [key, count] : requests_) requests[key] = count;
  return dump_json(
      json{{"name", mock_name},
           {"connections_accepted", connections_accepted_},
           {"connections_open", connections_open_},
           // This request's own connection is open too; tests waiting for the
           // gateway's connections to close wait for this one to reach 0.
           {"other_connections_open", std::max<std::int64_t>(connections_open_ - 1, 0)},
           {"requests", std::move(requests)},
           {"streams_completed", streams_completed_},
           {"streams_aborted", streams_aborted_},
           {"streams_dropped", streams_dropped_}});
}

std::string MockStats::requests_json(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  json entries = json::array();
  std::size_t first = log_.size() > limit ? log_.size() - limit : 0;
  for (std::size_t i = first; i < log_.size(); ++i) {
    const LogEntry& entry = log_[i];
    entries.push_back(json{{"seq", entry.seq},
                           {"method", entry.method},
                           {"path", entry.path},
                           {"target", entry.target},
                           {"headers", entry.headers},
                           {"body", entry.body},
                           {"status", entry.status},
                           {"response_body", entry.response_body},
                           {"completed", entry.completed},
                           {"aborted", entry.aborted}});
  }
  return dump_json(entries);
}

void MockStats::reset() {
  std::lock_guard lock(mutex_);
  connections_accepted_ = 0;
  requests_.clear();
  streams_completed_ = 0;
  streams_aborted_ = 0;
  streams_dropped_ = 0;
  completion_numbers_ = 0;
  next_seq_ = 1;
  log_.clear();
}

}  // namespace switchyard::mock

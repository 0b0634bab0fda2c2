#include "switchyard/mcp/session_streams.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "json_fields.hpp"
#include "switchyard/mcp/access.hpp"
#include "switchyard/mcp/session.hpp"

namespace switchyard::mcp {
namespace {

using Clock = std::chrono::steady_clock;

bool sees(const StreamOwner& owner, std::string_view server) {
  return in_view(owner.view, owner.access, server);
}

}  // namespace

SessionStreams::SessionStreams() : tag_(process_tag()) {}

std::string SessionStreams::event_id(std::uint64_t number) const {
  return tag_ + "-" + std::to_string(number);
}

SessionStreams::Entry& SessionStreams::entry(const StreamOwner& owner) {
  Entry& e = entries_[owner.nonce];
  e.owner = owner;  // a reload may have changed what the key reaches
  e.idle_since = Clock::now();
  return e;
}

void SessionStreams::sweep() {
  const auto now = Clock::now();
  std::erase_if(entries_, [now](const auto& e) {
    return !e.second.stream && now - e.second.idle_since > kIdle;
  });
}

bool SessionStreams::is_own(std::string_view event_id) const {
  return event_id.size() > tag_.size() + 1 && event_id.starts_with(tag_) &&
         event_id[tag_.size()] == '-';
}

std::string SessionStreams::open(const StreamOwner& owner, const std::shared_ptr<Relay>& relay,
                                 std::string_view last_event_id,
                                 const std::vector<KeptEvent>* shared) {
  std::lock_guard lock(mutex_);
  sweep();
  Entry& e = entry(owner);
  // Each message goes on one stream only: the session's earlier one ends.
  if (e.stream && e.stream != relay) e.stream->end();
  e.stream = relay;
  e.home = true;
  if (shared && !last_event_id.empty() && !is_own(last_event_id)) {
    // The client was last given events by another replica: what followed there.
    const auto last = std::find_if(shared->begin(), shared->end(),
                                   [&](const KeptEvent& k) { return k.id == last_event_id; });
    for (auto it = last == shared->end() ? shared->begin() : last + 1; it != shared->end(); ++it)
      relay->push(it->event);
    e.delivered = e.last;
    return std::string(last_event_id);
  }
  // Without a Last-Event-ID, what no stream has carried yet (made while none was open).
  std::uint64_t after = e.delivered;
  if (is_own(last_event_id)) {
    const std::string_view number = last_event_id.substr(tag_.size() + 1);
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (ec == std::errc() && end == number.data() + number.size() && n <= e.last) after = n;
  }
  for (const auto& [number, event] : e.events)
    if (number > after) relay->push(event);
  e.delivered = e.last;
  return event_id(after);
}

void SessionStreams::catch_up(const std::string& nonce, const Relay* relay, std::string_view after,
                              const std::vector<KeptEvent>& shared) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(nonce);
  if (it == entries_.end() || it->second.stream.get() != relay) return;
  auto next = shared.begin();
  if (!after.empty()) {
    next = std::find_if(shared.begin(), shared.end(),
                        [&](const KeptEvent& k) { return k.id == after; });
    if (next == shared.end()) return;  // no longer kept: nothing known to follow it
    ++next;
  }
  for (auto k = next; k != shared.end(); ++k)
    if (!is_own(k->id)) it->second.stream->push(k->event);
}

std::optional<StreamOwner> SessionStreams::home_of(const std::string& nonce) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(nonce);
  if (it == entries_.end() || !it->second.home) return std::nullopt;
  return it->second.owner;
}

std::optional<std::pair<StreamOwner, std::vector<std::string>>> SessionStreams::moved(
    const std::string& nonce) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(nonce);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.stream) it->second.stream->end();
  std::pair<StreamOwner, std::vector<std::string>> out{
      std::move(it->second.owner),
      {it->second.subscriptions.begin(), it->second.subscriptions.end()}};
  entries_.erase(it);
  return out;
}

void SessionStreams::close(const std::string& nonce, const Relay* relay) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(nonce);
  if (it == entries_.end() || it->second.stream.get() != relay) return;
  it->second.stream.reset();
  it->second.idle_since = Clock::now();
}

void SessionStreams::forget(const std::string& nonce) {
  moved(nonce);
}

void SessionStreams::end_all() {
  std::lock_guard lock(mutex_);
  for (auto& [nonce, e] : entries_)
    if (e.stream) e.stream->end();
}

void SessionStreams::subscribe(const StreamOwner& owner, const std::string& uri) {
  std::lock_guard lock(mutex_);
  sweep();
  entry(owner).subscriptions.insert(uri);
}

void SessionStreams::unsubscribe(const std::string& nonce, const std::string& uri) {
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(nonce); it != entries_.end())
    it->second.subscriptions.erase(uri);
}

bool SessionStreams::subscribed(std::string_view server, const std::string& uri) const {
  std::lock_guard lock(mutex_);
  for (const auto& [nonce, e] : entries_)
    if (sees(e.owner, server) && e.subscriptions.contains(uri)) return true;
  return false;
}

void SessionStreams::publish_to(const std::string& nonce, std::string_view raw) {
  std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(nonce); it != entries_.end()) deliver(nonce, it->second, raw);
}

void SessionStreams::publish(std::string_view server, const api::jsonrpc::Message& notification,
                             std::string_view raw) {
  const std::string& method = notification.method;
  const bool updated = method == "notifications/resources/updated";
  if (!updated && method != "notifications/message" && !method.ends_with("/list_changed")) return;
  std::string uri;
  if (updated)
    uri = string_member(nlohmann::json::parse(notification.params, nullptr, false), "uri");
  std::lock_guard lock(mutex_);
  for (auto& [nonce, e] : entries_) {
    if (sees(e.owner, server) && (!updated || e.subscriptions.contains(uri)))
      deliver(nonce, e, raw);
  }
}

void SessionStreams::deliver(const std::string& nonce, Entry& e, std::string_view raw) {
  const std::uint64_t number = ++e.last;
  std::string event = sse_event(raw, event_id(number));
  // A client that reads slower than servers talk is not buffered for without bound: its stream
  // ends, and it resumes from what it has (Last-Event-ID) with what is kept.
  if (e.stream && e.stream->push(event) > kReplay) {
    e.stream->end();
    e.stream.reset();
    e.idle_since = Clock::now();
  } else if (e.stream) {
    e.delivered = number;
  }
  if (e.home && keeper_) keeper_(nonce, {event_id(number), event});
  e.events.emplace_back(number, std::move(event));
  if (e.events.size() > kReplay) e.events.pop_front();
}

bool SessionStreams::streaming(const std::string& nonce) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(nonce);
  return it != entries_.end() && it->second.stream != nullptr;
}

std::size_t SessionStreams::open_streams() const {
  std::lock_guard lock(mutex_);
  std::size_t open = 0;
  for (const auto& [nonce, e] : entries_) open += e.stream != nullptr;
  return open;
}

}  // namespace switchyard::mcp

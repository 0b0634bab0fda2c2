// Splits a server-sent-events byte stream into events (WHATWG HTML "event stream" framing):
// lines end in CRLF, LF or CR, a blank line ends an event, `data:` lines accumulate, lines
// starting with ':' are comments. The relay forwards each complete event's raw bytes untouched
// and looks only at its data.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::upstream {

struct SseEvent {
  std::string_view raw;   // the event's bytes, terminating blank line included
  std::string_view data;  // data lines joined by '\n' (one leading space of each removed)
  std::string_view name;  // the `event:` field, empty when absent
  bool has_data = false;  // false: only comments / other fields (keep-alives)
};

class SseParser {
 public:
  explicit SseParser(std::size_t max_event_bytes = 4 * 1024 * 1024) : max_(max_event_bytes) {}

  // Appends received bytes. Invalidates views returned earlier.
  void feed(std::string_view bytes);
  // Zero-copy feeding: a reader writes up to n bytes at prepare(n), then commit()s what it wrote.
  char* prepare(std::size_t n);
  void commit(std::size_t n);
  // The next complete event, if one is buffered. Its raw view stays valid until the next feed()
  // or discard_consumed(); its data view until the next call.
  std::optional<SseEvent> next();
  // At end of stream: a final event that lacks its blank line (servers that close right after
  // `data: [DONE]`), or nothing.
  std::optional<SseEvent> finish();
  // Drops the bytes of events already returned; call before feeding more.
  void discard_consumed();
  // Drops everything buffered, complete or not (a stream already over).
  void discard_all();
  // True when a partial event has outgrown the limit: the stream is not SSE as we know it.
  bool overflowed() const { return size_ - consumed_ > max_; }
  std::size_t pending_bytes() const { return size_ - consumed_; }

 private:
  std::optional<SseEvent> parse_event(std::size_t begin, std::size_t end);

  std::string buffer_;
  std::size_t size_ = 0;      // bytes of buffer_ in use; the rest is prepared space
  std::size_t consumed_ = 0;  // bytes of buffer_ already returned as events
  std::size_t scanned_ = 0;   // no blank line before this offset
  std::string joined_;        // storage for multi-line data
  std::size_t max_;
};

// Frames `data` as one SSE event: "data: <data>\n\n".
std::string sse_data_event(std::string_view data);

}  // namespace switchyard::upstream

#include "switchyard/http1/parser.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/http/error.hpp>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace switchyard::http1 {

namespace {

using boost::beast::http::error;
constexpr std::string_view kCrlf = "\r\n";

// RFC 9110 §5.6.2: the characters of a field name (a token).
constexpr std::array<bool, 256> kTchar = [] {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[static_cast<std::size_t>(c)] = t[static_cast<std::size_t>(c - 32)] = true;
  for (const char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}();

// The length of the token at the start of `s`.
std::size_t token_length(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && kTchar[static_cast<unsigned char>(s[n])]) ++n;
  return n;
}

// The length of the field name at the start of `line`, or 0 when the line does not start with
// a token followed by a colon.
std::size_t name_length(std::string_view line) {
  const std::size_t n = token_length(line);
  return n < line.size() && line[n] == ':' ? n : 0;
}

bool is_control(unsigned char c) {
  return (c < 0x20 && c != '\t') || c == 0x7F;
}

// The next byte at or after `at` that no line of a head may hold: a control character other
// than HTAB (field values, reason phrases and chunk extensions are visible characters, spaces,
// tabs and obs-text), or n. The one allowed is the CR of the CRLF that ends a line. 16 bytes a
// step with SSE2: a provider's head runs to a kilobyte (rate-limit and tracing fields).
std::size_t next_control(const char* p, std::size_t at, std::size_t n) {
#if defined(__SSE2__)
  const __m128i below_space = _mm_set1_epi8(0x1F);
  const __m128i del = _mm_set1_epi8(0x7F);
  const __m128i tab = _mm_set1_epi8('\t');
  for (; at + 16 <= n; at += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
    // Unsigned v <= 0x1F: the larger of v and 0x1F is 0x1F.
    const __m128i low = _mm_cmpeq_epi8(_mm_max_epu8(v, below_space), below_space);
    const __m128i hit =
        _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), low), _mm_cmpeq_epi8(v, del));
    if (const int mask = _mm_movemask_epi8(hit); mask != 0)
      return at + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  while (at < n && !is_control(static_cast<unsigned char>(p[at]))) ++at;
  return at;
}

bool is_text(std::string_view s) {
  return next_control(s.data(), 0, s.size()) == s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each non-empty element of a comma-separated list; stops when f says so.
template <class F>
void for_each_element(std::string_view list, F f) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim(list.substr(0, comma));
    if (!element.empty() && !f(element)) return;
    if (comma == std::string_view::npos) return;
    list.remove_prefix(comma + 1);
  }
}

// A whole decimal number, or nothing (from_chars takes no sign or space, and fails on overflow).
bool parse_decimal(std::string_view s, std::uint64_t* out) {
  const auto [end, result] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return result == std::errc() && end == s.data() + s.size();
}

// The CRLF-ended line at the front of `rest`, taken off it.
std::string_view take_line(std::string_view& rest) {
  const std::size_t end = rest.find('\r');
  const std::string_view line = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + kCrlf.size());
  return line;
}

// chunk-size [ chunk-ext ] (RFC 9112 §7.1), the line without its CRLF. Extensions are allowed
// and ignored.
bool parse_chunk_line(std::string_view line, std::uint64_t* size) {
  const char* const end = line.data() + line.size();
  const auto [digits_end, result] = std::from_chars(line.data(), end, *size, 16);
  if (result != std::errc()) return false;  // no digits, or more than 64 bits
  const std::string_view ext = trim({digits_end, static_cast<std::size_t>(end - digits_end)});
  return ext.empty() || (ext.front() == ';' && is_text(ext));
}

// Whether two tokens (field names, codings, options) are the same in any case. Most differ in
// length, which says so at once; letters are told from other bytes that differ only in bit 0x20
// (as '^' and '~' do). Beast's iequals folds every byte through a table: 140 instructions for a
// name as long as Content-Length.
bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    const unsigned char folded = x | 0x20;
    if (folded != (y | 0x20) || folded < 'a' || folded > 'z') return false;
  }
  return true;
}

// Where `part` starts in `whole`, which holds it.
std::uint32_t offset_in(std::string_view whole, std::string_view part) {
  return static_cast<std::uint32_t>(part.data() - whole.data());
}

}  // namespace

std::optional<std::string_view> Head::find(std::string_view wanted) const {
  for (const Field& field : fields_)
    if (same_name(name(field), wanted)) return value(field);
  return std::nullopt;
}

void Head::release_beyond(std::size_t bytes) {
  if (text_.capacity() > bytes) text_ = std::string();
  if (fields_.capacity() * sizeof(Field) > bytes) fields_ = std::vector<Field>();
}

struct Parser::Framing {
  int lengths = 0;  // Content-Length values seen
  std::uint64_t length = 0;
  bool transfer_encoding = false;
  bool chunked = false;  // the final transfer coding is chunked
  bool close = false;
  bool keep_alive = false;
};

Parser::Parser(Kind kind, Head& head, std::size_t max_head, std::uint64_t max_body)
    : head_(head), max_head_(max_head), max_body_(max_body), kind_(kind) {
  head_.text_.clear();
  head_.fields_.clear();
}

std::size_t Parser::put(std::string_view in, error_code& ec) {
  ec = {};
  if (!in.empty()) got_some_ = true;
  std::size_t used = 0;
  // Empty lines before a request line are passed over (RFC 9112 §2.2): some clients end a body
  // with an extra CRLF.
  if (kind_ == Kind::request && state_ == State::head && scanned_ == 0)
    while (in.substr(used, kCrlf.size()) == kCrlf) used += kCrlf.size();
  // An interim response (1xx) is passed over, and the final one parsed from what follows it.
  while (state_ == State::head) {
    const std::size_t n = put_head(in.substr(used), ec);
    if (ec) return used;
    used += n;
    if (state_ == State::head && used == in.size()) {
      ec = error::need_more;
      return used;
    }
  }
  return used > 0 ? used : put_body(in, ec);
}

// Finds the empty line that ends the head, checking on the way that every control character
// is the CR of a CRLF: what parse_head() then reads has whole lines and nothing else to reject.
std::size_t Parser::put_head(std::string_view in, error_code& ec) {
  const char* p = in.data();
  const std::size_t n = std::min(in.size(), max_head_);
  std::size_t at = scanned_;
  for (;; at += kCrlf.size()) {
    at = next_control(p, at, n);
    if (at + 2 * kCrlf.size() > n) {
      // The head may end past what arrived: look again from this line end when more has.
      if (at < n && p[at] != '\r') break;
      scanned_ = at;
      ec = in.size() > max_head_ ? error::header_limit : error::need_more;
      return 0;
    }
    if (p[at] != '\r' || p[at + 1] != '\n') break;
    if (p[at + 2] == '\r' && p[at + 3] == '\n') {
      scanned_ = 0;
      parse_head(in.substr(0, at + kCrlf.size()), ec);
      return ec ? 0 : at + 2 * kCrlf.size();
    }
  }
  // A bare CR or LF, or another control character inside a line.
  ec = p[at] == '\r' || p[at] == '\n' ? error::bad_line_ending : error::bad_value;
  return 0;
}

void Parser::parse_head(std::string_view head, error_code& ec) {
  const std::size_t eol = head.find(kCrlf);
  const std::string_view line = head.substr(0, eol);
  if (kind_ == Kind::request ? !parse_request_line(line, ec) : !parse_status_line(line, ec)) return;
  Framing framing;
  parse_fields(head, eol + kCrlf.size(), framing, ec);
  if (ec) return;
  if (kind_ == Kind::response && head_.status_ < 200 && head_.status_ != 101)
    return;  // interim: the final response follows
  head_.text_.assign(head);
  set_framing(framing, ec);
}

// request-line = method SP request-target SP HTTP-version
bool Parser::parse_request_line(std::string_view line, error_code& ec) {
  const std::size_t method = token_length(line);
  if (method == 0 || method == line.size() || line[method] != ' ') {
    ec = error::bad_method;
    return false;
  }
  const std::size_t target = method + 1;
  const std::size_t space = line.find(' ', target);
  if (space == std::string_view::npos || space == target ||
      line.substr(target, space - target).find('\t') != std::string_view::npos) {
    ec = error::bad_target;
    return false;
  }
  const std::string_view version = line.substr(space + 1);
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." ||
      (version[7] != '0' && version[7] != '1')) {
    ec = error::bad_version;
    return false;
  }
  head_.version_ = version[7] == '1' ? 11 : 10;
  head_.method_ = boost::beast::http::string_to_verb(line.substr(0, method));
  head_.method_size_ = static_cast<std::uint32_t>(method);
  head_.target_at_ = static_cast<std::uint32_t>(target);
  head_.target_size_ = static_cast<std::uint32_t>(space - target);
  return true;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ]; a missing SP before an empty
// reason is tolerated, as servers send it.
bool Parser::parse_status_line(std::string_view line, error_code& ec) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1')) {
    ec = error::bad_version;
    return false;
  }
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') {
      ec = error::bad_status;
      return false;
    }
    status = status * 10 + (line[i] - '0');
  }
  if (line[8] != ' ' || status < 100 || (line.size() > 12 && line[12] != ' ')) {
    ec = error::bad_status;
    return false;
  }
  head_.version_ = line[7] == '1' ? 11 : 10;
  head_.status_ = status;
  return true;
}

// The field lines of `head` from `at`, indexed into head_.fields_; the framing fields read.
void Parser::parse_fields(std::string_view head, std::size_t at, Framing& framing, error_code& ec) {
  head_.fields_.clear();
  for (std::string_view rest = head.substr(at); !rest.empty();) {
    const std::string_view field = take_line(rest);
    // No obs-fold (a line starting with whitespace) and no space before the colon: RFC 9112
    // §5.1-2 lets a recipient reject both, and a proxy that guessed would be smuggling.
    const std::size_t colon = name_length(field);
    if (colon == 0) {
      ec = error::bad_field;
      return;
    }
    const std::string_view name = field.substr(0, colon);
    const std::string_view value = trim(field.substr(colon + 1));
    head_.fields_.push_back({offset_in(head, name), static_cast<std::uint32_t>(name.size()),
                             offset_in(head, value), static_cast<std::uint32_t>(value.size())});
    if (same_name(name, "content-length")) {
      // Repeated or listed lengths must agree (RFC 9112 §6.3 item 5); a request may not repeat
      // it at all.
      bool ok = true;
      for_each_element(value, [&](std::string_view v) {
        std::uint64_t n = 0;
        ok = parse_decimal(v, &n) &&
             (framing.lengths == 0 || (kind_ == Kind::response && n == framing.length));
        ++framing.lengths;
        framing.length = n;
        return ok;
      });
      if (!ok || framing.lengths == 0) {
        ec = error::bad_content_length;
        return;
      }
    } else if (same_name(name, "transfer-encoding")) {
      // The final coding decides: chunked, or a body that runs until the close.
      framing.transfer_encoding = true;
      for_each_element(value, [&](std::string_view coding) {
        framing.chunked = same_name(coding, "chunked");
        return true;
      });
    } else if (same_name(name, "connection")) {
      for_each_element(value, [&](std::string_view option) {
        framing.close = framing.close || same_name(option, "close");
        framing.keep_alive = framing.keep_alive || same_name(option, "keep-alive");
        return true;
      });
    }
  }
}

void Parser::set_framing(const Framing& framing, error_code& ec) {
  keep_alive_ = head_.version_ == 11 ? !framing.close : framing.keep_alive;
  const bool has_length = framing.lengths > 0;
  if (kind_ == Kind::request) {
    // A request whose length is not certain is refused (RFC 9112 §6.3 items 3-4): a transfer
    // coding beside a length is the sign of a smuggling attempt, and a coding other than
    // chunked last leaves no end.
    if (framing.transfer_encoding && (has_length || !framing.chunked)) {
      ec = error::bad_transfer_encoding;
    } else if (framing.transfer_encoding) {
      state_ = State::chunk_size;
    } else if (framing.length > max_body_) {
      ec = error::body_limit;
    } else {
      expect_length(framing.length);
    }
    return;
  }
  const int status = head_.status_;
  if (status == 101 || status == 204 || status == 304) {
    state_ = State::done;  // no body, whatever the fields say (RFC 9112 §6.3 item 1)
    keep_alive_ = keep_alive_ && status != 101;
  } else if (framing.transfer_encoding) {
    // A length beside a transfer coding is ignored, and the connection not trusted after it
    // (RFC 9112 §6.3 item 3: the sign of a smuggling attempt).
    state_ = framing.chunked ? State::chunk_size : State::until_eof;
    keep_alive_ = keep_alive_ && framing.chunked && !has_length;
  } else if (has_length) {
    expect_length(framing.length);
  } else {
    state_ = State::until_eof;
    keep_alive_ = false;
  }
}

void Parser::expect_length(std::uint64_t length) {
  left_ = length;
  state_ = length > 0 ? State::length : State::done;
}

std::size_t Parser::copy_body(std::string_view in) {
  const std::size_t n = std::min(room_, in.size());
  if (n > 0) std::memcpy(out_, in.data(), n);
  out_ += n;
  room_ -= n;
  return n;
}

std::size_t Parser::put_body(std::string_view in, error_code& ec) {
  std::size_t used = 0;
  while (used < in.size() && state_ != State::done) {
    const std::string_view rest = in.substr(used);
    switch (state_) {
      case State::length:
      case State::chunk_data: {
        const std::size_t n =
            copy_body(rest.substr(0, std::min<std::uint64_t>(left_, rest.size())));
        used += n;
        left_ -= n;
        if (left_ == 0) {
          state_ = state_ == State::length ? State::done : State::chunk_end;
        } else if (n < rest.size()) {
          ec = error::need_buffer;
          return used;
        }
        break;
      }
      case State::until_eof: {
        const std::size_t n = copy_body(rest);
        used += n;
        if (n < rest.size()) {
          ec = error::need_buffer;
          return used;
        }
        break;
      }
      case State::chunk_size:
      case State::trailer: {
        const std::size_t eol = rest.find(kCrlf);
        const std::size_t limit = state_ == State::trailer ? max_head_ : kMaxChunkLine;
        if (eol == std::string_view::npos || eol > limit) {
          ec = rest.size() > limit ? error::bad_chunk : error::need_more;
          return used;
        }
        const std::string_view line = rest.substr(0, eol);
        used += eol + kCrlf.size();
        if (state_ == State::trailer) {
          if (line.empty()) state_ = State::done;  // trailer fields are read and not kept
          break;
        }
        if (!parse_chunk_line(line, &left_)) {
          ec = error::bad_chunk;
          return used;
        }
        if (left_ > max_body_ - body_size_) {
          ec = error::body_limit;
          return used;
        }
        body_size_ += left_;
        state_ = left_ > 0 ? State::chunk_data : State::trailer;
        break;
      }
      case State::chunk_end:
        if (rest.size() < kCrlf.size() && rest.front() == '\r') {
          ec = error::need_more;
          return used;
        }
        if (rest.substr(0, kCrlf.size()) != kCrlf) {
          ec = error::bad_chunk;
          return used;
        }
        used += kCrlf.size();
        state_ = State::chunk_size;
        break;
      case State::head:
      case State::done:
        break;
    }
  }
  return used;
}

void Parser::put_eof(error_code& ec) {
  ec = {};
  if (state_ == State::until_eof)
    state_ = State::done;
  else if (state_ != State::done)
    ec = error::partial_message;
}

}  // namespace switchyard::http1

#include "messages_body.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace switchyard::api::messages {

namespace {

using Json = nlohmann::ordered_json;  // see dom_dump()

// nlohmann::json's compact dump of validated text, for the two things the dump below leaves to
// the DOM: a double's shortest form, and an object that names a key twice. Both are rare; out of
// line and cold (as fault() is), they leave the compiler's inlining budget to the hot walk.
[[gnu::cold, gnu::noinline]] std::string dom_dump(std::string_view text) {
  return Json::parse(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::uint32_t hex4(std::string_view text, std::size_t at) {
  std::uint32_t unit = 0;
  std::from_chars(text.data() + at, text.data() + at + 4, unit, 16);
  return unit;
}

// The escape that starts `rest` as the DOM's dump writes its character: JSON's short escapes as
// they are, \/ as '/', a \u escape as the character itself unless the dump escapes it (a control
// character, '"', '\\'). Returns the escape's length.
std::size_t append_escape(std::string& out, std::string_view rest) {
  static constexpr std::string_view kNamed = "\b\t\n\f\r\"\\", kLetters = "btnfr\"\\";
  static constexpr char kHex[] = "0123456789abcdef";
  if (rest[1] != 'u') {
    out += rest[1] == '/' ? std::string_view("/") : rest.substr(0, 2);
    return 2;
  }
  const std::size_t length = (hex4(rest, 2) >> 10) == 0x36 ? 12 : 6;  // a surrogate pair
  const std::string decoded = json::unescape(rest.substr(0, length));
  const auto c = static_cast<unsigned char>(decoded[0]);
  if (decoded.size() == 1 && kNamed.find(decoded[0]) != kNamed.npos) {
    append(out, '\\', kLetters[kNamed.find(decoded[0])]);
  } else if (decoded.size() == 1 && c < 0x20) {
    append(out, "\\u00", kHex[c >> 4], kHex[c & 0xF]);
  } else {
    out += decoded;
  }
  return length;
}

// Past the closing quote of the string that starts at `at` in validated text.
std::size_t string_end(std::string_view text, std::size_t at) {
  for (;;) {
    at = text.find('"', at + 1);
    std::size_t backslashes = 0;
    while (text[at - 1 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return at + 1;  // a quote not itself escaped
  }
}

// nlohmann::json's compact dump of validated text, written without a DOM, and escaped as the body
// of a JSON string: a tool call's `arguments` are that string. False, with `out` cut short, when
// an object names a key twice: the DOM kept such a key once (at its first place, with its last
// value), and only the DOM is left to say that. `keys` and `objects` are scratch.
bool dump_compact(std::string& out, std::string_view text, std::vector<std::string_view>& keys,
                  std::vector<std::size_t>& objects) {
  for (std::size_t at = 0; at < text.size();) {
    const char c = text[at];
    if (c == '"') {
      const std::size_t end = string_end(text, at);
      std::string_view body = text.substr(at + 1, end - at - 2);
      const std::string_view key = body;
      out += "\\\"";
      for (auto slash = body.find('\\'); slash != body.npos; slash = body.find('\\')) {
        out += body.substr(0, slash);
        const std::size_t from = out.size();
        body.remove_prefix(slash + append_escape(out, body.substr(slash)));
        for (std::size_t i = from; i < out.size(); ++i)  // escaped once more, for the string
          if (out[i] == '\\' || out[i] == '"') out.insert(i++, 1, '\\');
      }
      append(out, body, "\\\"");
      for (at = end; at < text.size() && json::Cursor::is_ws(text[at]);) ++at;
      if (at >= text.size() || text[at] != ':') continue;
      for (std::size_t i = objects.back(); i < keys.size(); ++i)
        if (same_key(keys[i], key)) return false;
      keys.push_back(key);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const std::size_t end = std::min(text.find_first_not_of("0123456789+-.eE", at), text.size());
      append_number(out, text.substr(at, end - at));
      at = end;
    } else {
      if (c == '{') objects.push_back(keys.size());
      if (c == '}') {
        keys.resize(objects.back());
        objects.pop_back();
      }
      if (!json::Cursor::is_ws(c)) out += c;  // structure, or a letter of true, false or null
      ++at;
    }
  }
  return true;
}

}  // namespace

Number number_kind(std::string_view raw) {
  if (raw.find_first_of(".eE") != raw.npos) return Number::floating;
  const bool negative = raw.front() == '-';
  const std::string_view digits = raw.substr(negative ? 1 : 0);
  const std::string_view limit = negative ? "9223372036854775808" : "18446744073709551615";
  if (digits.size() > limit.size() || (digits.size() == limit.size() && digits > limit))
    return Number::floating;
  return negative ? Number::negative : Number::non_negative;
}

// A number as the DOM's dump wrote it: an integer as written ("-0" aside), a double in the dump's
// own shortest form.
void append_number(std::string& out, std::string_view raw) {
  if (number_kind(raw) == Number::floating || raw == "-0") {
    out += dom_dump(raw);
  } else {
    out += raw;
  }
}

bool is_integer(const Field& field) {
  return field.type == Type::number && number_kind(field.raw) != Number::floating;
}

// A number the DOM parser refused: one it read as a double beyond the range of one. strtod()
// reads it as the DOM did, in the C locale, which the gateway never leaves.
bool overflows(std::string_view number) {
  if (number.size() < 309 && number.find_first_of("eE") == number.npos) return false;
  return std::isinf(std::strtod(std::string(number).c_str(), nullptr));
}

// True when a \u escape in validated text names half a surrogate pair (0xD800-0xDBFF the first
// half, 0xDC00-0xDFFF the second) without the other: our scanner lets that pass, the DOM parser
// refused the body. Outside strings there is no '\\', and inside one each starts an escape.
bool has_lone_surrogate(std::string_view text) {
  for (std::size_t at = text.find('\\'); at != text.npos; at = text.find('\\', at)) {
    const bool unicode = text[at + 1] == 'u';
    const std::uint32_t half = unicode ? hex4(text, at + 2) >> 10 : 0;
    at += unicode ? 6 : 2;
    if (half == 0x37) return true;
    if (half != 0x36) continue;
    if (text.substr(at, 2) != "\\u" || (hex4(text, at + 2) >> 10) != 0x37) return true;
    at += 6;
  }
  return false;
}

// Two keys' raw texts that name the same member.
bool same_key(std::string_view a, std::string_view b) {
  if (a == b) return true;
  const bool escaped = a.find('\\') != a.npos || b.find('\\') != b.npos;
  return escaped && json::unescape(a) == json::unescape(b);
}

void append_compact_string(std::string& out, std::string_view text,
                           std::vector<std::string_view>& keys, std::vector<std::size_t>& objects) {
  const std::size_t start = out.size();
  keys.clear();
  objects.clear();
  out += '"';
  if (dump_compact(out, text, keys, objects)) {
    out += '"';
    return;
  }
  out.resize(start);
  json::append_quoted(out, dom_dump(text));
}

}  // namespace switchyard::api::messages

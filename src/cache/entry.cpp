#include "switchyard/cache/entry.hpp"

#include "switchyard/api/json.hpp"

namespace switchyard::cache {

namespace {

// Calls on_member(key_raw, value) for each top-level member of `object`, or, from this
// process, until it returns false; false when `object` is not valid JSON.
template <class OnMember>
bool read_members(std::string_view object, EntryOrigin origin, OnMember&& on_member) {
  if (origin == EntryOrigin::redis) return !api::json::scan(object, on_member);
  while (!object.empty() && api::json::Cursor::is_ws(object.front())) object.remove_prefix(1);
  api::json::for_each_member(object, on_member);
  return true;
}

}  // namespace

std::string encode_entry(std::string_view provider, std::string_view model,
                         std::string_view upstream, std::string_view completion) {
  std::string entry = "{\"provider\":";
  api::json::append_quoted(entry, provider);
  entry += ",\"model\":";
  api::json::append_quoted(entry, model);
  entry += ",\"upstream\":";
  api::json::append_quoted(entry, upstream);
  entry += "}\n";
  entry += completion;
  return entry;
}

std::optional<Entry> decode_entry(std::string_view entry, EntryOrigin origin) {
  const auto newline = entry.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  Entry out{{}, {}, {}, entry.substr(newline + 1)};
  const bool valid = read_members(entry.substr(0, newline), origin,
                                  [&out](std::string_view key, const api::json::Value& v) {
                                    if (v.type != api::json::Type::string) return;
                                    if (api::json::key_equals(key, "provider"))
                                      out.provider = api::json::unescape(v.raw);
                                    if (api::json::key_equals(key, "model"))
                                      out.model = api::json::unescape(v.raw);
                                    if (api::json::key_equals(key, "upstream"))
                                      out.upstream = api::json::unescape(v.raw);
                                  });
  if (!valid) return std::nullopt;
  return out;
}

std::optional<std::string> with_model(std::string_view completion, std::string_view model,
                                      EntryOrigin origin) {
  std::string_view raw;
  const bool valid =
      read_members(completion, origin, [&](std::string_view key, const api::json::Value& value) {
        if (raw.empty() && api::json::key_equals(key, "model") &&
            value.type == api::json::Type::string)
          raw = value.raw;
        return raw.empty();  // a walk that need not validate stops at the first "model"
      });
  if (!valid) return std::nullopt;
  if (raw.empty()) return std::string(completion);
  const std::size_t at = static_cast<std::size_t>(raw.data() - completion.data());
  std::string out;
  out.append(completion.substr(0, at));
  api::json::append_quoted(out, model);
  out.append(completion.substr(at + raw.size()));
  return out;
}

}  // namespace switchyard::cache

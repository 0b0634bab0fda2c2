// Byte-level helpers every wire format of switchyard-mock shares: serialising JSON without ever
// throwing, reading optional members of client JSON, and cutting text into stream pieces.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace switchyard::mock {

// Serialises without ever throwing: request bodies and x-mock-* values are client bytes and may
// not be UTF-8, which nlohmann's default dump() rejects with an exception.
std::string dump_json(const nlohmann::ordered_json& value);

// object[key] if `object` is an object holding `key`, else nullptr; never throws or inserts.
const nlohmann::ordered_json* find_member(const nlohmann::ordered_json& object,
                                          std::string_view key);
// The first of two spellings present. Google's JSON parser accepts a proto field under its
// lowerCamel JSON name and under its original snake_case name ("generationConfig" and
// "generation_config"), so a faithful Gemini mock must too.
const nlohmann::ordered_json* find_member(const nlohmann::ordered_json& object,
                                          std::string_view key, std::string_view alias);

// True only for a JSON `true`; "stream": "yes" is not a stream request.
bool is_true(const nlohmann::ordered_json& object, std::string_view key);

// Splits `content` into `pieces` parts of nearly equal length, cutting only between UTF-8 code
// points so every piece is valid JSON string content on its own.
std::vector<std::string> split_content(std::string_view content, int pieces);

}  // namespace switchyard::mock

// The hot-path JSON scanner: that it accepts exactly the RFC 8259 documents a reference parser
// (nlohmann::json) accepts, that its 8-byte fast path gets every alignment right, that the
// spans it hands out are exact, and that decoding and quoting round-trip.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/api/json.hpp"

namespace switchyard::api::json {
namespace {

using nlohmann::ordered_json;

// Bytes a failure message can show.
std::string printable(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

bool valid(std::string_view text) {
  return !validate(text).has_value();
}

// What the reference parser says about `text`. `comparable` is false for the few documents where
// nlohmann deliberately goes beyond RFC 8259's grammar: it rejects escaped lone surrogates and
// numbers that overflow a double, and skips a leading byte order mark. It also stops at a NUL
// byte as if the text ended there (for C strings); no JSON text contains a raw NUL, so those are
// rejects.
struct Reference {
  bool accepted = false;
  bool comparable = true;
};

Reference reference(const std::string& text) {
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) return {false, false};
  if (text.find('\0') != std::string::npos) return {false, true};
  try {
    [[maybe_unused]] const ordered_json doc = ordered_json::parse(text);
    return {true, true};
  } catch (const nlohmann::json::exception& e) {
    const std::string what = e.what();
    const bool beyond_grammar = what.find("surrogate") != std::string::npos ||
                                what.find("number overflow") != std::string::npos;
    return {false, !beyond_grammar};
  }
}

// Random JSON text: every construct of the grammar, random whitespace, strings with escapes,
// \u sequences (surrogate pairs included) and multibyte UTF-8. Keys are unique per object so the
// document compares member by member with an ordered_json.
class DocumentGenerator {
 public:
  explicit DocumentGenerator(std::uint32_t seed) : rng_(seed) {}

  std::string document() {
    std::string out;
    ws(out);
    value(out, 0);
    ws(out);
    return out;
  }

  std::mt19937& rng() { return rng_; }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  void ws(std::string& out) {
    static constexpr char kWs[] = {' ', '\t', '\n', '\r'};
    while (pick(4) == 0) out += kWs[pick(4)];
  }

  void value(std::string& out, int depth) {
    const int kind = depth >= 4 ? pick(4) : pick(6);
    switch (kind) {
      case 0:
        string(out);
        break;
      case 1:
        number(out);
        break;
      case 2:
        out += pick(3) == 0 ? "null" : pick(2) ? "true" : "false";
        break;
      case 3:
        string(out);
        break;
      case 4:
        array(out, depth);
        break;
      default:
        object(out, depth);
    }
  }

  void array(std::string& out, int depth) {
    out += '[';
    ws(out);
    const int n = pick(5);
    for (int i = 0; i < n; ++i) {
      if (i) out += ',';
      ws(out);
      value(out, depth + 1);
      ws(out);
    }
    out += ']';
  }

  void object(std::string& out, int depth) {
    out += '{';
    ws(out);
    const int n = pick(5);
    for (int i = 0; i < n; ++i) {
      if (i) out += ',';
      ws(out);
      std::string key;
      string(key);
      std::string tag(1, '#');
      tag += std::to_string(i);
      key.insert(key.size() - 1, tag);  // unique within the object
      out += key;
      ws(out);
      out += ':';
      ws(out);
      value(out, depth + 1);
      ws(out);
    }
    out += '}';
  }

  void string(std::string& out) {
    static constexpr const char* kPieces[] = {
        "a",
        "hello world",
        "0123456789abcdef",
        "\\\"",
        "\\\\",
        "\\/",
        "\\b",
        "\\f",
        "\\n",
        "\\r",
        "\\t",
        "\\u0041",
        "\\u00e9",
        "\\u20AC",
        "\\ud83d\\ude00",
        "\xC3\xA9",
        "\xE2\x82\xAC",
        "\xF0\x9F\x98\x80",
        "\x7F",
        "'",
        "}]",
        ",:",
        " ",
    };
    out += '"';
    const int n = pick(8);
    for (int i = 0; i < n; ++i) out += kPieces[pick(std::size(kPieces))];
    out += '"';
  }

  void number(std::string& out) {
    if (pick(2)) out += '-';
    if (pick(3) == 0) {
      out += '0';
    } else {
      out += static_cast<char>('1' + pick(9));
      for (int i = pick(6); i > 0; --i) out += static_cast<char>('0' + pick(10));
    }
    if (pick(3) == 0) {
      out += '.';
      for (int i = 1 + pick(4); i > 0; --i) out += static_cast<char>('0' + pick(10));
    }
    if (pick(3) == 0) {
      out += pick(2) ? 'e' : 'E';
      if (const int sign = pick(3)) out += sign == 1 ? '+' : '-';
      for (int i = 1 + pick(2); i > 0; --i) out += static_cast<char>('0' + pick(10));
    }
  }

  std::mt19937 rng_;
};

// Small random edits that turn valid text into mostly invalid text near the interesting bytes.
std::string mutate(std::string text, std::mt19937& rng) {
  static constexpr unsigned char kBytes[] = {
      '"',  '\\', '{',  '}',  '[',  ']',  ',',  ':',  '0',  '1',  '9',  '-',  '+',  '.',
      'e',  'E',  'n',  't',  'f',  'u',  'a',  ' ',  '\t', '\n', '\r', 0x00, 0x01, 0x1F,
      0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F};
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const int edits = 1 + static_cast<int>(pick(3));
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = pick(text.size() + 1);
    const char byte = static_cast<char>(kBytes[pick(std::size(kBytes))]);
    switch (pick(4)) {
      case 0:
        if (at < text.size()) text.erase(at, 1);
        break;
      case 1:
        text.insert(at, 1, byte);
        break;
      case 2:
        if (at < text.size()) text[at] = byte;
        break;
      default:
        text.resize(at);
    }
  }
  return text;
}

TEST(JsonValidate, AgreesWithAReferenceParserOnRandomAndMutatedDocuments) {
  DocumentGenerator gen(20240611);
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string original = gen.document();
    for (const std::string& text : {original, mutate(original, gen.rng())}) {
      const Reference ref = reference(text);
      if (!ref.comparable) continue;
      ASSERT_EQ(valid(text), ref.accepted) << printable(text);
      ++(ref.accepted ? accepted : rejected);
    }
  }
  // Both outcomes must be well represented, or the comparison proves little.
  EXPECT_GT(accepted, 4000);
  EXPECT_GT(rejected, 1500);
}

TEST(JsonValidate, AgreesWithAReferenceParserOnHandPickedDocuments) {
  // Scalars and whitespace.
  const std::vector<std::string> scalars = {
      "0",    "-0",    "1",    "-1",    "123",  "1.5",  "-0.0e+0", "1E9",
      "1e-9", "0.1e1", "true", "false", "null", "\"\"", "\"x\"",   " \t\r\n1 \t\r\n",
      "[]",   "{}",    "[ ]",  "{ }"};
  // Number grammar errors.
  const std::vector<std::string> bad_numbers = {
      "01",    "-",   "+1",       ".5",        "5.",  "1.e3",  "1e", "1e+", "0x10",
      "1_000", "NaN", "Infinity", "-Infinity", "--1", "1.2.3", "00", "-01"};
  // Literal errors.
  const std::vector<std::string> bad_literals = {"tru",  "truee", "True", "nul",
                                                 "NULL", "fals",  "nulll"};
  // Structure errors.
  const std::vector<std::string> bad_structure = {
      "",          " ",        "[",          "]",       "{",
      "}",         "[1,]",     "[,1]",       "[1 2]",   "{\"a\":1,}",
      "{\"a\" 1}", "{\"a\":}", "{1:2}",      "{'a':1}", "{\"a\":1 \"b\":2}",
      "[1]]",      "[[1]",     "{\"a\":1}}", "1 2",     "[1],",
      "{\"a\"}",   "{,}",      "[\"a\":1]"};
  // Strings: escapes.
  const std::vector<std::string> escapes = {
      R"("\"")",     R"("\\")",     R"("\/")",           R"("\b\f\n\r\t")",
      R"("\u0000")", R"("\uFFFF")", R"("\ud83d\ude00")", R"("\x41")",
      R"("\a")",     R"("\u12")",   R"("\u12G4")",       R"("\U0041")",
      R"("\)",       R"("\\\")",    R"("\'")",           "\"\\\n\""};
  // Strings: raw control characters and DEL.
  const std::vector<std::string> controls = {
      std::string("\"a\0b\"", 5), "\"a\x01z\"", "\"\x1F\"", "\"tab\there\"",
      "\"line\nbreak\"",          "\"\x7F\""};
  // Strings: UTF-8, valid and not.
  const std::vector<std::string> utf8 = {"\"\xC3\xA9\"",
                                         "\"\xE2\x82\xAC\"",
                                         "\"\xF0\x9F\x98\x80\"",
                                         "\"\xF4\x8F\xBF\xBF\"",
                                         "\"\xEF\xBF\xBF\"",
                                         "\"\xC0\xAF\"",
                                         "\"\xC1\xBF\"",
                                         "\"\xE0\x80\xAF\"",
                                         "\"\xE0\x9F\xBF\"",
                                         "\"\xED\xA0\x80\"",
                                         "\"\xED\x9F\xBF\"",
                                         "\"\xF0\x8F\xBF\xBF\"",
                                         "\"\xF4\x90\x80\x80\"",
                                         "\"\xF5\x80\x80\x80\"",
                                         "\"\xFF\"",
                                         "\"\x80\"",
                                         "\"\xBF\"",
                                         "\"\xC3\"",
                                         "\"\xE2\x82\"",
                                         "\"\xF0\x9F\x98\"",
                                         "\"\xC3\x28\"",
                                         "\"\xE2\x28\xA1\""};
  // Unterminated strings at every length around the 8-byte fast path.
  const std::vector<std::string> unterminated = {"\"",         "\"a",         "\"abcdefg",
                                                 "\"abcdefgh", "\"abcdefghi", "\"abcdefghijklmnop"};
  // Bytes outside strings.
  const std::vector<std::string> outside_strings = {"\xC3\xA9", std::string("[1]\0", 4),
                                                    std::string("1\0", 2), std::string(1, '\0')};
  // Nesting.
  const std::vector<std::string> nesting = {"[[[[[[[[[[]]]]]]]]]]",
                                            "{\"a\":{\"b\":{\"c\":[{\"d\":null}]}}}",
                                            "[{}]",
                                            "[[]",
                                            "{\"a\":[}",
                                            "[{]}",
                                            "{\"\":0}",
                                            "{\"a\":1,\"a\":2}"};
  for (const auto* group : {&scalars, &bad_numbers, &bad_literals, &bad_structure, &escapes,
                            &controls, &utf8, &unterminated, &outside_strings, &nesting}) {
    for (const std::string& text : *group) {
      const Reference ref = reference(text);
      ASSERT_TRUE(ref.comparable) << printable(text);
      EXPECT_EQ(valid(text), ref.accepted) << printable(text);
    }
  }
}

TEST(JsonValidate, AcceptsEscapedLoneSurrogatesAsTheGrammarAllows) {
  // RFC 8259 §8.2: the grammar allows them; unescape() turns them into U+FFFD.
  for (const char* text : {R"("\ud800")", R"("\udc00")", R"("\udbff\u0041")", R"("x\uDFFFy")"})
    EXPECT_TRUE(valid(text)) << text;
}

TEST(JsonValidate, RejectsALeadingByteOrderMark) {
  EXPECT_FALSE(valid("\xEF\xBB\xBF{}"));
}

// Every byte position 0..16 inside a string, so each special byte lands at each offset of the
// 8-byte fast path and just before, on and after its boundary.
TEST(JsonString, HandlesEverySpecialByteAtEveryAlignment) {
  const std::vector<std::string> specials = {
      "",
      "\\\"",
      "\\\\",
      "\\\\\\\\",
      "\\\\\\\"",
      "\\n",
      "\\u0041",
      "\\u00E9",
      "\\ud83d\\ude00",
      "\xC3\xA9",
      "\xE2\x82\xAC",
      "\xF0\x9F\x98\x80",
      "\x7F",
      "\x01",
      std::string(1, '\0'),
      "\n",
      "\t",
      "\x1F",
      "\x80",
      "\xC3",
      "\xE2\x82",
      "\xF0\x9F\x98",
      "\xED\xA0\x80",
      "\xC0\x80",
      "\\x",
      "\\u00G0",
      "\xF4\x90\x80\x80",
  };
  for (std::size_t before = 0; before <= 16; ++before) {
    for (std::size_t after : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8},
                              std::size_t{9}, std::size_t{16}}) {
      for (const std::string& special : specials) {
        const std::string contents = std::string(before, 'a') + special + std::string(after, 'b');
        const std::string text = "\"" + contents + "\"";
        const Reference ref = reference(text);
        ASSERT_TRUE(ref.comparable) << printable(text);
        ASSERT_EQ(valid(text), ref.accepted) << printable(text);
        if (!ref.accepted) continue;
        EXPECT_EQ(unescape(text), ordered_json::parse(text).get<std::string>()) << printable(text);

        // The same string as an array element and object member: its span must be exact, and
        // the value after it must still be found.
        const std::string array = "[" + text + ",\"" + contents + "\",0]";
        std::vector<std::string> elements;
        for_each_element(array, [&](const Value& v) { elements.emplace_back(v.raw); });
        EXPECT_EQ(elements, (std::vector<std::string>{text, text, "0"})) << printable(array);

        const std::string object = "{" + text + ":" + text + ",\"z\":" + text + "}";
        ASSERT_TRUE(valid(object)) << printable(object);
        std::vector<std::pair<std::string, std::string>> members;
        for_each_member(object, [&](std::string_view key, const Value& v) {
          members.emplace_back(key, v.raw);
        });
        EXPECT_EQ(members,
                  (std::vector<std::pair<std::string, std::string>>{{contents, text}, {"z", text}}))
            << printable(object);
      }
    }
  }
}

TEST(JsonString, FindsTheClosingQuoteWhateverTheTextLengthAfterIt) {
  // The fast path reads 8 bytes at a time only while 8 remain: strings ending at and near the
  // end of the text.
  for (std::size_t len = 0; len <= 24; ++len) {
    const std::string contents(len, 'x');
    EXPECT_TRUE(valid("\"" + contents + "\"")) << len;
    EXPECT_FALSE(valid("\"" + contents)) << len;
    EXPECT_FALSE(valid("\"" + contents + "\\")) << len;
    EXPECT_FALSE(valid("\"" + contents + "\\\"")) << len;
    EXPECT_TRUE(valid("\"" + contents + "\\\\\"")) << len;
  }
}

TEST(JsonString, TellsEscapedQuotesFromClosingOnesAfterBackslashRuns) {
  // In skip_validated a quote after an odd run of backslashes is escaped, after an even run it
  // closes the string.
  for (std::size_t before = 0; before <= 16; ++before) {
    for (int run = 1; run <= 6; ++run) {
      const std::string slashes(static_cast<std::size_t>(run), '\\');
      std::string str(1, '"');
      str.append(before, 'a');
      str += slashes;
      str += run % 2 ? "\"tail\"" : "\"";
      const std::string array = "[" + str + ", " + str + " ,{\"k\":" + str + "}]";
      ASSERT_TRUE(valid(array)) << array;
      const ordered_json expected = ordered_json::parse(array);
      std::size_t i = 0;
      for_each_element(array, [&](const Value& v) {
        ASSERT_LT(i, expected.size());
        EXPECT_EQ(ordered_json::parse(v.raw), expected[i]) << array << " element " << i;
        ++i;
      });
      EXPECT_EQ(i, 3u) << array;
    }
  }
}

TEST(JsonDepth, AcceptsNestingUpToTheLimitAndRejectsOneLevelMore) {
  auto arrays = [](int levels) {
    return std::string(static_cast<std::size_t>(levels), '[') +
           std::string(static_cast<std::size_t>(levels), ']');
  };
  auto objects = [](int levels) {
    std::string s;
    for (int i = 0; i < levels; ++i) s += "{\"a\":";
    s += "0";
    for (int i = 0; i < levels; ++i) s += "}";
    return s;
  };
  auto object_of_arrays = [](int levels) {  // top-level object, then arrays
    return "{\"a\":" + std::string(static_cast<std::size_t>(levels - 1), '[') +
           std::string(static_cast<std::size_t>(levels - 1), ']') + "}";
  };
  for (const auto& make : {+arrays, +objects, +object_of_arrays}) {
    EXPECT_TRUE(valid(make(kMaxDepth)));
    const auto err = validate(make(kMaxDepth + 1));
    ASSERT_TRUE(err.has_value());
    EXPECT_STREQ(err->what, "JSON nested too deeply");
  }
}

TEST(JsonDepth, RejectsAbsurdNestingWithoutExhaustingTheStack) {
  EXPECT_FALSE(valid(std::string(1'000'000, '[')));
  std::string objects;
  for (int i = 0; i < 200'000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(valid(objects));
}

TEST(JsonScan, ReportsEachTopLevelMemberWithItsExactRawKeyAndValue) {
  const std::string text =
      " {\"model\" : \"gpt\\u002d4o\",\"n\":-1.5e3, \"x\\\"y\":[1, {\"model\":2}],"
      "\"o\":{ \"k\" : [ ] },\"t\":true,\"f\":false,\"z\":null} ";
  std::vector<std::pair<std::string, std::string>> members;
  std::vector<Type> types;
  const auto err = scan(text, [&](std::string_view key, const Value& v) {
    members.emplace_back(key, v.raw);
    types.push_back(v.type);
  });
  ASSERT_FALSE(err.has_value()) << err->what;
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"model", "\"gpt\\u002d4o\""},
      {"n", "-1.5e3"},
      {"x\\\"y", "[1, {\"model\":2}]"},
      {"o", "{ \"k\" : [ ] }"},
      {"t", "true"},
      {"f", "false"},
      {"z", "null"},
  };
  EXPECT_EQ(members, expected);
  EXPECT_EQ(types, (std::vector<Type>{Type::string, Type::number, Type::array, Type::object,
                                      Type::boolean, Type::boolean, Type::null}));
}

TEST(JsonScan, ReportsNoMembersForADocumentThatIsNotAnObject) {
  int calls = 0;
  for (const char* text : {"[{\"a\":1}]", "\"a\"", "1", "null"}) {
    EXPECT_FALSE(scan(text, [&](std::string_view, const Value&) { ++calls; }).has_value());
  }
  EXPECT_EQ(calls, 0);
}

TEST(JsonScan, LocatesTheErrorAtTheOffendingByte) {
  const struct {
    const char* text;
    std::size_t offset;
  } cases[] = {
      {"{\"a\":1,}", 7}, {"{\"a\" 1}", 5}, {"{\"a\":1 2}", 7}, {"[1,2", 4}, {"{\"a\":\"\x01\"}", 6},
      {"{} x", 3},       {"", 0},          {"{\"a\":tru}", 5},
  };
  for (const auto& c : cases) {
    const auto err = validate(c.text);
    ASSERT_TRUE(err.has_value()) << printable(c.text);
    EXPECT_EQ(err->offset, c.offset) << printable(c.text) << ": " << err->what;
  }
}

TEST(JsonIterate, RawSpansOfElementsAndMembersParseToTheSameValues) {
  DocumentGenerator gen(7);
  int containers = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string text = gen.document();
    ASSERT_TRUE(valid(text)) << printable(text);
    const ordered_json doc = ordered_json::parse(text);
    // The raw span of the document itself, as a caller gets it from scan().
    const auto first = text.find_first_not_of(" \t\r\n");
    const auto last = text.find_last_not_of(" \t\r\n");
    const std::string_view raw = std::string_view(text).substr(first, last - first + 1);
    if (doc.is_array()) {
      ++containers;
      std::size_t n = 0;
      for_each_element(raw, [&](const Value& v) {
        ASSERT_LT(n, doc.size()) << printable(text);
        EXPECT_EQ(ordered_json::parse(v.raw), doc[n]) << printable(text) << " element " << n;
        EXPECT_EQ(v.type == Type::string, doc[n].is_string()) << printable(v.raw);
        EXPECT_EQ(v.type == Type::array, doc[n].is_array()) << printable(v.raw);
        EXPECT_EQ(v.type == Type::object, doc[n].is_object()) << printable(v.raw);
        EXPECT_EQ(v.type == Type::number, doc[n].is_number()) << printable(v.raw);
        ++n;
      });
      EXPECT_EQ(n, doc.size()) << printable(text);
    } else if (doc.is_object()) {
      ++containers;
      auto it = doc.begin();
      for_each_member(raw, [&](std::string_view key, const Value& v) {
        ASSERT_NE(it, doc.end()) << printable(text);
        EXPECT_EQ(unescape(key), it.key()) << printable(text);
        EXPECT_TRUE(key_equals(key, it.key())) << printable(key);
        EXPECT_EQ(ordered_json::parse(v.raw), it.value()) << printable(text);
        ++it;
      });
      EXPECT_TRUE(it == doc.end()) << printable(text);
    }
  }
  EXPECT_GT(containers, 800);
}

TEST(JsonIterate, VisitsNothingInEmptyContainers) {
  int calls = 0;
  for_each_element("[]", [&](const Value&) { ++calls; });
  for_each_element("[ \n ]", [&](const Value&) { ++calls; });
  for_each_member("{}", [&](std::string_view, const Value&) { ++calls; });
  for_each_member("{\t}", [&](std::string_view, const Value&) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(JsonIterate, AMemberCallbackThatReturnsFalseStopsTheWalk) {
  std::vector<std::string_view> seen;
  for_each_member(R"({"id":"x","model":"m","choices":[{"a":1}],"usage":{}})",
                  [&](std::string_view key, const Value& v) {
                    seen.push_back(key);
                    return !(key == "model" && v.raw == R"("m")");
                  });
  EXPECT_EQ(seen, (std::vector<std::string_view>{"id", "model"}));
}

TEST(JsonUnescape, DecodesSimpleEscapesAndBmpCodePoints) {
  EXPECT_EQ(unescape(R"("a\"b\\c\/d\be\ff\ng\rh\ti")"), "a\"b\\c/d\be\ff\ng\rh\ti");
  EXPECT_EQ(unescape(R"("\u0041\u00e9\u00E9\u20ac\uFFFF")"),
            "A\xC3\xA9\xC3\xA9\xE2\x82\xAC\xEF\xBF\xBF");
  EXPECT_EQ(unescape(R"("\u0000")"), std::string(1, '\0'));
  EXPECT_EQ(unescape("\"plain \xF0\x9F\x98\x80 text\""), "plain \xF0\x9F\x98\x80 text");
  EXPECT_EQ(unescape("\"\""), "");
}

TEST(JsonUnescape, DecodesKeysGivenWithoutQuotes) {
  EXPECT_EQ(unescape(R"(mod\u0065l)"), "model");
  EXPECT_EQ(unescape(R"(\"quoted\")"), "\"quoted\"");
}

TEST(JsonUnescape, CombinesSurrogatePairsIntoOneCodePoint) {
  EXPECT_EQ(unescape(R"("\ud83d\ude00")"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(unescape(R"("\uD800\uDC00")"), "\xF0\x90\x80\x80");  // U+10000
  EXPECT_EQ(unescape(R"("\uDBFF\uDFFF")"), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(unescape(R"("x\ud83d\ude00y")"), "x\xF0\x9F\x98\x80y");
}

TEST(JsonUnescape, ReplacesLoneSurrogatesWithTheReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(unescape(R"("\ud800")"), fffd);
  EXPECT_EQ(unescape(R"("\udc00")"), fffd);
  EXPECT_EQ(unescape(R"("\ud800x")"), fffd + "x");
  EXPECT_EQ(unescape(R"("\ud800\u0041")"), fffd + "A");
  EXPECT_EQ(unescape(R"("\ud800\n")"), fffd + "\n");
  EXPECT_EQ(unescape(R"("\ude00\ud83d")"), fffd + fffd);
  EXPECT_EQ(unescape(R"("\ud83d\ud83d\ude00")"), fffd + "\xF0\x9F\x98\x80");
}

TEST(JsonKeyEquals, ComparesKeysWithEscapesDecoded) {
  EXPECT_TRUE(key_equals("model", "model"));
  EXPECT_TRUE(key_equals(R"(mod\u0065l)", "model"));
  EXPECT_TRUE(key_equals(R"(\u006d\u006F\u0064\u0065\u006c)", "model"));
  EXPECT_FALSE(key_equals("models", "model"));
  EXPECT_FALSE(key_equals("mode", "model"));
  EXPECT_FALSE(key_equals("Model", "model"));
  EXPECT_FALSE(key_equals(R"(mod\u0065ls)", "model"));
  EXPECT_FALSE(key_equals(R"(model\n)", "model"));
  EXPECT_TRUE(key_equals("", ""));
}

TEST(JsonAppendQuoted, ProducesAStringThatParsesBackToTheSameText) {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii += static_cast<char>(c);
  for (const std::string& text : {std::string(), all_ascii, std::string("say \"hi\"\\n\r\n\t"),
                                  std::string("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
                                  std::string(1, '\0'), std::string("</script>")}) {
    std::string out;
    append_quoted(out, text);
    ASSERT_TRUE(valid(out)) << printable(out);
    EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), text) << printable(out);
    EXPECT_EQ(unescape(out), text) << printable(out);
  }
}

TEST(JsonAppendQuoted, ReplacesBytesThatAreNotUtf8SoTheOutputStaysValidJson) {
  // A client's raw request path can hold any byte above 0x7F; the error body quoting it and the
  // request log line must still be JSON.
  const std::string fffd = "\xEF\xBF\xBD";
  const struct {
    std::string text;
    std::string decoded;
  } cases[] = {
      {"/v1/\xFF", "/v1/" + fffd},
      {"a\xC3", "a" + fffd},                            // truncated at the end
      {"\xC3(", fffd + "("},                            // truncated before ASCII
      {"\xC0\xAF", fffd + fffd},                        // overlong '/'
      {"\xED\xA0\x80", fffd + fffd + fffd},             // an encoded surrogate
      {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"ok \xC3\xA9\xF0\x9F\x98\x80 \x80", "ok \xC3\xA9\xF0\x9F\x98\x80 " + fffd},
  };
  for (const auto& c : cases) {
    std::string out;
    append_quoted(out, c.text);
    ASSERT_TRUE(valid(out)) << printable(out);
    EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), c.decoded) << printable(c.text);
  }
}

TEST(JsonAppendQuoted, AppendsToWhatIsAlreadyThere) {
  std::string out = "{\"k\":";
  append_quoted(out, "v");
  out += "}";
  EXPECT_EQ(out, R"({"k":"v"})");
}

}  // namespace
}  // namespace switchyard::api::json

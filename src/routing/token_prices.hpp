// The token estimator's price tables: what each kind of pre-token costs in o200k_base, by script
// and case, and the short function words that tell a European language other than English.
// Private to token_estimate.cpp, which inlines them into its scanner.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "unicode_class.hpp"

namespace switchyard::routing::token_prices {

// The tables, and the scanner that reads them, speak in code point classes and scripts.
using unicode::Cls;
using unicode::Script;
using enum unicode::Cls;
using enum unicode::Script;
using unicode::classify;
using unicode::decode_utf8;
using unicode::is_rare;
using unicode::is_upper;
using unicode::kAscii;
using unicode::script_of;

// Prices in thousandths of a token. The word rows were fitted per pre-token to o200k_base's counts
// of man pages in twenty languages, library sources and the samples in
// tests/data/tokens/samples.jsonl; the rest to whole texts of the same.
struct WordPrice {
  // The word alone, after a space (" the" is one token as often as "the"), after one symbol the
  // pre-tokenizer joined to it ("(key", "_name", "，我"), or after a letter of another case or
  // script ("get|User", "Python|中").
  std::int32_t bare, after_space, after_symbol, after_letter;
  // BPE finds common words whole: letters up to `whole` cost nothing beyond the base, each one
  // past it `per_letter`. `per_extra` prices each accented or rare Latin letter, and each kana,
  // which merge less.
  std::int32_t whole, per_letter, per_extra;
};

enum Row : std::uint8_t {
  kRowLower,        // lowercase Latin: "word", " word"
  kRowCapitalized,  // "Word"
  kRowAllCaps,      // "WORD", and the capitals before a capitalized word in "HTTPServer"
  kRowCyrillic,
  kRowGreek,
  kRowArabic,
  kRowHebrew,
  kRowIndic,
  kRowThai,
  kRowCjk,  // per Han character, kana as the extra
  kRowHangul,
  kRowOther,
  kRowCount
};

// The row each script is priced by; Latin's depends on case (word_price), its entry is unused.
inline constexpr std::array<Row, kOtherScript + 1> kScriptRow{
    kRowLower, kRowCyrillic, kRowGreek, kRowArabic, kRowHebrew,
    kRowIndic, kRowThai,     kRowCjk,   kRowHangul, kRowOther};
static_assert(kScriptRow[kCyrillic] == kRowCyrillic && kScriptRow[kOtherScript] == kRowOther);

struct Prices {
  std::array<WordPrice, kRowCount> words;
  std::int32_t single_letter;
  std::int32_t digit_group;  // o200k_base cuts digit runs in groups of up to three
  std::int32_t blank_run;    // a run of blanks not joined to what follows
  std::int32_t newline_run;  // blanks and newlines up to the last newline are one pre-token
  // A punctuation run is one pre-token; short ones are a single token, longer ones cost more
  // per change of character ("|---|---|") than per repeat ("--------").
  std::int32_t punct_run, punct_change, punct_free_changes, punct_repeat, punct_free_repeats;
  std::int32_t symbol;  // a non-ASCII symbol in a punctuation run, on top: "—", "€", "。"
  std::int32_t emoji, flag_half, joiner, invalid;
  // A word after a space is usually a whole word, and the vocabulary has the long common ones
  // (" inconvenience"); one that is not is more often a fragment of an identifier or a rarer
  // word: it is found whole up to this many letters fewer.
  std::int32_t unspaced_whole_cut;
  // Other languages in Latin letters are not packed as tightly as English: in a piece where
  // `foreign_share` thousandths of the words are kForeignWords, a spaced word costs
  // `foreign_per_letter` more per letter past `foreign_whole` (proportionally less for fewer).
  std::int32_t foreign_whole, foreign_per_letter, foreign_share;
  // Polish, Czech, Romanian, Turkish, Hungarian, Ukrainian and the like, told by their letters
  // outside Latin-1 and Russian (`rare_share` thousandths of the letters), get fewer merges
  // still: a spaced word costs `rare_per_letter` more per letter past `rare_whole`.
  std::int32_t rare_whole, rare_per_letter, rare_share;
};

inline constexpr Prices kPrices{
    .words = {{
        // bare, after space, after symbol, after letter; whole, per letter, per extra
        /* lower */ {1100, 1020, 1320, 1100, 10, 120, 450},
        /* capitalized */ {900, 1030, 1550, 780, 5, 60, 450},
        /* all caps */ {1400, 1150, 1480, 1050, 8, 160, 450},
        /* cyrillic */ {1300, 950, 1300, 950, 2, 200, 0},
        /* greek */ {1200, 1170, 1300, 1170, 3, 480, 0},
        /* arabic */ {1000, 960, 1100, 960, 2, 310, 0},
        /* hebrew */ {500, 210, 600, 210, 0, 390, 0},
        /* indic */ {1300, 1030, 1300, 1030, 3, 320, 0},
        /* thai */ {500, 500, 500, 500, 0, 400, 0},
        /* cjk */ {70, 610, 570, 610, 0, 750, 700},
        /* hangul */ {650, 330, 1000, 330, 0, 590, 0},
        /* other */ {1000, 1000, 1000, 1000, 1, 500, 0},
    }},
    .single_letter = 1000,
    .digit_group = 1000,
    .blank_run = 1200,
    .newline_run = 750,
    .punct_run = 1000,
    .punct_change = 150,
    .punct_free_changes = 5,
    .punct_repeat = 100,
    .punct_free_repeats = 2,
    .symbol = 200,
    .emoji = 1800,
    .flag_half = 2000,
    .joiner = 1000,
    .invalid = 1000,
    .unspaced_whole_cut = 4,
    .foreign_whole = 5,
    .foreign_per_letter = 190,
    .foreign_share = 60,
    .rare_whole = 4,
    .rare_per_letter = 200,
    .rare_share = 20,
};

// Short function words of the European languages written in Latin letters other than English
// (none of them a common English word). Their share of a piece's words tells such a language,
// whose longer words o200k_base splits more often than English ones.
inline constexpr std::u32string_view kForeignList =
    U"der die das und ist mit den von zu ein eine auf für sich dem des auch wird oder wenn sind "
    U"ich wir "                                                                       // German
    U"le la les et est une pour que dans pas sur qui du au ce avec ou il vous nous "  // French
    U"el los las es del por una para se lo su más al "                                // Spanish
    U"di che gli si da sono não em um "           // Italian, Portuguese
    U"het een van dat zijn niet voor ook op te "  // Dutch
    U"och att det som är på för med av inte om "  // Swedish
    U"nie jest jak od za po na ve bir bu için ile de în cu pe nu sau este az és hogy nem egy "
    U"meg je";  // Polish, Turkish, Romanian, Hungarian, Czech

// A word of up to four Latin-1 letters, lowercased, as one number.
inline constexpr std::uint32_t spell(std::u32string_view word) {
  std::uint32_t v = 0;
  for (const char32_t ch : word) v = v << 8 | (ch & 0xFF);
  return v;
}

// kForeignList as an open-addressing hash set (Fibonacci hashing into 512 slots), so that looking
// up a short word takes a probe or two.
inline constexpr std::size_t kForeignSlots = 512;
inline constexpr std::size_t foreign_slot(std::uint32_t spelled) {
  return (spelled * 2654435761u) >> 23;
}
inline constexpr auto kForeignWords = [] {
  std::array<std::uint32_t, kForeignSlots> slots{};  // 0: empty
  std::u32string_view rest = kForeignList;
  while (!rest.empty()) {
    const auto space = rest.find(U' ');
    const std::uint32_t w = spell(rest.substr(0, space));
    std::size_t i = foreign_slot(w);
    while (slots[i] != 0) i = (i + 1) % kForeignSlots;
    slots[i] = w;
    rest.remove_prefix(space == rest.npos ? rest.size() : space + 1);
  }
  return slots;
}();

inline bool is_foreign_word(std::uint32_t spelled) {
  for (std::size_t i = foreign_slot(spelled);; i = (i + 1) % kForeignSlots) {
    if (kForeignWords[i] == spelled) return true;
    if (kForeignWords[i] == 0) return false;
  }
}

}  // namespace switchyard::routing::token_prices

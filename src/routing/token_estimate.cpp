#include "switchyard/routing/token_estimate.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "unicode_class.hpp"

namespace switchyard::routing {

namespace {

// The scanner speaks in code point classes and scripts throughout.
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
constexpr std::array<Row, kOtherScript + 1> kScriptRow{
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

constexpr Prices kPrices{
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
constexpr std::u32string_view kForeignList =
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
constexpr std::uint32_t spell(std::u32string_view word) {
  std::uint32_t v = 0;
  for (const char32_t ch : word) v = v << 8 | (ch & 0xFF);
  return v;
}

// kForeignList as an open-addressing hash set (Fibonacci hashing into 512 slots), so that looking
// up a short word takes a probe or two.
constexpr std::size_t kForeignSlots = 512;
constexpr std::size_t foreign_slot(std::uint32_t spelled) {
  return (spelled * 2654435761u) >> 23;
}
constexpr auto kForeignWords = [] {
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

bool is_foreign_word(std::uint32_t spelled) {
  for (std::size_t i = foreign_slot(spelled);; i = (i + 1) % kForeignSlots) {
    if (kForeignWords[i] == spelled) return true;
    if (kForeignWords[i] == 0) return false;
  }
}

enum class Run : std::uint8_t { kNone, kWord, kDigits, kPunct, kBlanks, kNewlines };
enum Prefix : std::uint8_t { kBare, kAfterSpace, kAfterSymbol, kAfterLetter };

// One text piece's pre-tokens, recognised code point by code point and priced as each ends.
class Scanner {
 public:
  void step(Cls c, char32_t cp) {
    if (apostrophe_) contraction(c, cp);
    switch (c) {
      case kMark:
        if (run_ == Run::kWord) {
          ++letters_;
          return;
        }
        letter(kOtherLetter, cp);
        return;
      case kDigit:
        digit();
        return;
      case kSpace:
      case kTab:
        blank(c == kTab);
        return;
      case kNewline:
        newline();
        return;
      case kApostrophe:
        if (run_ == Run::kWord && script_ == kLatin) {
          apostrophe_ = true;  // maybe 's 't 're 've 'm 'll 'd, which stay with the word
          return;
        }
        punct(cp, false);
        return;
      case kPunct:
        punct(cp, false);
        return;
      case kSymbol:
        punct(cp, true);
        return;
      case kEmoji:
        glyph(kPrices.emoji);
        return;
      case kFlag:
        glyph(kPrices.flag_half);
        return;
      case kJoiner:
        glyph(kPrices.joiner);
        return;
      case kInvalid:
        glyph(kPrices.invalid);
        return;
      default:
        letter(c, cp);
        return;
    }
  }

  // Reads on, from `p`, the letters a-z that continue a lowercase Latin word: most of any text,
  // counted here without the general step.
  const unsigned char* continue_word(const unsigned char* p, const unsigned char* end) {
    if (run_ != Run::kWord || script_ != kLatin || suffix_ != 0 || apostrophe_) return p;
    const unsigned char* q = p;
    for (; q < end && *q >= 'a' && *q <= 'z'; ++q) {
      if (++letters_ <= 4)
        spelled_ = spelled_ << 8 | *q;
      else
        spellable_ = false;
    }
    if (q != p) seen_lower_ = true;
    return q;
  }

  std::uint64_t finish() {
    if (apostrophe_) {
      apostrophe_ = false;
      end_run();
      total_ += kPrices.punct_run;
    }
    end_run();
    if (long_letters_ > 0 && foreign_words_ > 0) {
      // How sure we are the piece is not English, in thousandths.
      const std::int64_t foreign = std::min<std::int64_t>(
          1000, foreign_words_ * 1'000'000 / (latin_words_ * kPrices.foreign_share));
      total_ += kPrices.foreign_per_letter * long_letters_ * foreign / 1000;
    }
    if (rare_long_ > 0 && rare_seen_ > 0) {
      // How sure we are it is written in one of the languages with rarer letters.
      const std::int64_t rare = std::min<std::int64_t>(
          1000, rare_seen_ * 1'000'000 / (letters_seen_ * kPrices.rare_share));
      total_ += kPrices.rare_per_letter * rare_long_ * rare / 1000;
    }
    return total_;
  }

 private:
  void letter(Cls c, char32_t cp) {
    const Script s = script_of(c);
    const bool upper = is_upper(c);
    if (run_ == Run::kWord && s == script_ && !(upper && seen_lower_)) {
      add_letter(c, cp, upper);
      return;
    }
    // A new word: after another script, after a lowercase letter when this one is a capital
    // (o200k_base cuts "camelCase" before the C), or after something that is not a letter.
    Prefix prefix = kBare;
    if (run_ == Run::kWord) {
      end_run();
      prefix = kAfterLetter;
    } else if (run_ == Run::kBlanks) {
      if (blanks_ > 1) total_ += kPrices.blank_run;  // all but the last blank
      prefix = last_blank_is_tab_ ? kAfterSymbol : kAfterSpace;
    } else if (run_ == Run::kPunct && punct_chars_ == 1 && glyphs_ == 0 && !space_before_punct_ &&
               !newline_in_punct_) {
      prefix = kAfterSymbol;  // the one symbol belongs to the word's pre-token
    } else {
      end_run();
    }
    run_ = Run::kWord;
    script_ = s;
    prefix_ = prefix;
    letters_ = extra_ = rare_ = upper_lead_ = 0;
    seen_lower_ = false;
    suffix_ = 0;
    spelled_ = 0;
    spellable_ = true;
    add_letter(c, cp, upper);
  }

  void add_letter(Cls c, char32_t cp, bool upper) {
    if (suffix_ > 0) {
      // Letters after a contraction's apostrophe: 's 't 'm 'd take one, 're 've 'll two; more
      // start a word of their own.
      if (suffix_ < 3) {
        ++suffix_;
        return;
      }
      end_run();
      letter(c, cp);
      return;
    }
    if (c == kKana) {
      ++extra_;
      return;
    }
    ++letters_;
    // A short word's Latin-1 letters, lowercased (| 0x20 lowercases them all), to look it up by.
    if (cp < 0x100 && letters_ <= 4)
      spelled_ = spelled_ << 8 | (cp | 0x20);
    else
      spellable_ = false;
    if (c == kAccentLower || c == kAccentUpper) ++extra_;
    if (is_rare(c)) {
      ++extra_;
      ++rare_;
    }
    if (upper) {
      if (!seen_lower_) ++upper_lead_;
    } else {
      seen_lower_ = true;
    }
  }

  // What follows an apostrophe inside a Latin word: a contraction's letter, which the word
  // keeps ('s 't 're 've 'm 'll 'd), or anything else, and then the apostrophe is a symbol of its
  // own ("l'appareil" is "l", "'appareil"). The code point itself is then read as usual.
  void contraction(Cls c, char32_t cp) {
    apostrophe_ = false;
    if (c == kLower || c == kUpper) {
      switch (cp | 0x20) {
        case 's':
        case 't':
        case 'r':
        case 'v':
        case 'm':
        case 'l':
        case 'd':
          suffix_ = 1;  // add_letter() takes cp as the suffix's first letter
          return;
      }
    }
    end_run();
    start_punct('\'', false, true);
  }

  void digit() {
    if (run_ == Run::kDigits) {
      ++digits_;
      return;
    }
    if (run_ == Run::kBlanks) {
      // A blank never joins a number: "  42" is " ", " ", "42".
      total_ += blanks_ > 1 ? 2 * kPrices.blank_run : kPrices.blank_run;
      run_ = Run::kNone;
    } else {
      end_run();
    }
    run_ = Run::kDigits;
    digits_ = 1;
  }

  void blank(bool tab) {
    if (run_ != Run::kBlanks) {
      end_run();
      run_ = Run::kBlanks;
      blanks_ = 0;
    }
    ++blanks_;
    last_blank_is_tab_ = tab;
  }

  void newline() {
    switch (run_) {
      case Run::kNewlines:
        return;
      case Run::kBlanks:
        run_ = Run::kNewlines;  // "  \n" is one pre-token
        return;
      case Run::kPunct:
        newline_in_punct_ = true;  // ".\n\n" is one pre-token, often one token
        return;
      default:
        end_run();
        run_ = Run::kNewlines;
    }
  }

  void punct(char32_t cp, bool symbol) {
    if (run_ == Run::kPunct && !newline_in_punct_) {
      if (cp == last_punct_)
        ++punct_repeats_;
      else if (punct_chars_ > 0)
        ++punct_changes_;
      ++punct_chars_;
      punct_symbols_ += symbol;
      last_punct_ = cp;
      return;
    }
    if (run_ == Run::kPunct && cp == '/') return;  // `[\r\n/]*` ends the run's pre-token
    start_punct(cp, symbol, true);
  }

  void glyph(std::int32_t price) {
    if (run_ != Run::kPunct || newline_in_punct_) start_punct(0, false, false);
    ++glyphs_;
    total_ += price;
  }

  void start_punct(char32_t cp, bool symbol, bool counts) {
    bool space_before = false;
    if (run_ == Run::kBlanks) {
      // " (" is one pre-token; a tab, or the blanks before the last, are another.
      if (last_blank_is_tab_ || blanks_ > 1) total_ += kPrices.blank_run;
      space_before = !last_blank_is_tab_;
      run_ = Run::kNone;
    } else {
      end_run();
    }
    run_ = Run::kPunct;
    punct_chars_ = counts ? 1 : 0;
    punct_changes_ = punct_repeats_ = glyphs_ = 0;
    punct_symbols_ = symbol;
    last_punct_ = cp;
    space_before_punct_ = space_before;
    newline_in_punct_ = false;
  }

  void end_run() {
    switch (run_) {
      case Run::kNone:
        break;
      case Run::kWord:
        total_ += word_price();
        if (script_ == kLatin || script_ == kCyrillic) note_word();
        break;
      case Run::kDigits:
        total_ += kPrices.digit_group * ((digits_ + 2) / 3);
        break;
      case Run::kPunct:
        if (punct_chars_ > 0) {
          total_ += kPrices.punct_run +
                    kPrices.punct_change *
                        std::max<std::int64_t>(0, punct_changes_ - kPrices.punct_free_changes) +
                    kPrices.punct_repeat *
                        std::max<std::int64_t>(0, punct_repeats_ - kPrices.punct_free_repeats) +
                    kPrices.symbol * punct_symbols_;
        }
        break;
      case Run::kBlanks:
        total_ += kPrices.blank_run;
        break;
      case Run::kNewlines:
        total_ += kPrices.newline_run;
        break;
    }
    run_ = Run::kNone;
  }

  // What a Latin or Cyrillic word says about the piece's language.
  void note_word() {
    const bool spaced = prefix_ == kAfterSpace && upper_lead_ <= 1;
    letters_seen_ += letters_;
    rare_seen_ += rare_;
    if (spaced) rare_long_ += std::max<std::int64_t>(0, letters_ - kPrices.rare_whole);
    if (script_ != kLatin) return;
    ++latin_words_;
    if (spellable_ && letters_ > 1 && is_foreign_word(spelled_)) {
      ++foreign_words_;
    }
    if (spaced) long_letters_ += std::max<std::int64_t>(0, letters_ - kPrices.foreign_whole);
  }

  static std::int64_t price(Row row, Prefix prefix, std::int64_t letters, std::int64_t extra) {
    if (row <= kRowAllCaps && letters <= 1) return kPrices.single_letter;  // "a", "(x", " I"
    const WordPrice& p = kPrices.words[row];
    const std::int64_t base = prefix == kAfterSpace    ? p.after_space
                              : prefix == kAfterSymbol ? p.after_symbol
                              : prefix == kAfterLetter ? p.after_letter
                                                       : p.bare;
    const std::int64_t whole =
        prefix == kAfterSpace ? p.whole : std::max(0, p.whole - kPrices.unspaced_whole_cut);
    return base + p.per_letter * std::max<std::int64_t>(0, letters - whole) + p.per_extra * extra;
  }

  std::int64_t word_price() const {
    if (script_ != kLatin) return price(kScriptRow[script_], prefix_, letters_, extra_);
    if (upper_lead_ == 0) return price(kRowLower, prefix_, letters_, extra_);
    if (upper_lead_ == 1) return price(kRowCapitalized, prefix_, letters_, extra_);
    if (upper_lead_ == letters_) return price(kRowAllCaps, prefix_, letters_, extra_);
    // "HTTPServer": the capitals but the last, then a capitalized word.
    return price(kRowAllCaps, prefix_, upper_lead_ - 1, 0) +
           price(kRowCapitalized, kAfterLetter, letters_ - upper_lead_ + 1, extra_);
  }

  std::uint64_t total_ = 0;
  Run run_ = Run::kNone;
  // The word being read.
  Script script_ = kLatin;
  Prefix prefix_ = kBare;
  bool seen_lower_ = false;
  bool apostrophe_ = false;  // a Latin word's apostrophe, not yet known to be a contraction's
  std::int32_t suffix_ = 0;  // letters of the contraction suffix so far, plus one
  std::int64_t letters_ = 0, extra_ = 0, rare_ = 0, upper_lead_ = 0;
  std::uint32_t spelled_ = 0;
  bool spellable_ = true;
  // The piece's Latin words so far: how many, how many in kForeignWords, letters past
  // foreign_whole.
  std::int64_t latin_words_ = 0, foreign_words_ = 0, long_letters_ = 0;
  // And the piece's Latin and Cyrillic letters: how many, how many rare, letters past
  // rare_whole.
  std::int64_t letters_seen_ = 0, rare_seen_ = 0, rare_long_ = 0;
  // The digit, blank or punctuation run being read.
  std::int64_t digits_ = 0, blanks_ = 0;
  bool last_blank_is_tab_ = false;
  std::int64_t punct_chars_ = 0, punct_changes_ = 0, punct_repeats_ = 0, punct_symbols_ = 0;
  std::int64_t glyphs_ = 0;
  char32_t last_punct_ = 0;
  bool space_before_punct_ = false;
  bool newline_in_punct_ = false;
};

inline void step(Scanner& s, char32_t cp) {
  s.step(classify(cp), cp);
}

int hex_digit(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The four hex digits of a \u escape at `p`, or -1.
std::int32_t hex4(const unsigned char* p, const unsigned char* end) {
  if (end - p < 4) return -1;
  std::int32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = hex_digit(p[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace

void TokenEstimator::add_text(std::string_view utf8) {
  Scanner s;
  auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  const auto* end = p + utf8.size();
  while (p < end) {
    if (*p < 0x80) {
      s.step(kAscii[*p], *p);
      p = s.continue_word(p + 1, end);
    } else {
      step(s, decode_utf8(p, end));
    }
  }
  milli_tokens_ += s.finish();
}

void TokenEstimator::add_json_string(std::string_view raw) {
  Scanner s;
  auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  const auto* end = p + raw.size();
  while (p < end) {
    if (*p >= 0x80) {
      step(s, decode_utf8(p, end));
      continue;
    }
    if (*p != '\\' || p + 1 == end) {
      s.step(kAscii[*p], *p);
      p = s.continue_word(p + 1, end);
      continue;
    }
    const unsigned char e = p[1];
    p += 2;
    char32_t cp = e;  // \" \\ \/ stand for themselves
    switch (e) {
      case 'n':
        cp = '\n';
        break;
      case 't':
        cp = '\t';
        break;
      case 'r':
        cp = '\r';
        break;
      case 'b':
        cp = '\b';
        break;
      case 'f':
        cp = '\f';
        break;
      case 'u': {
        const std::int32_t hi = hex4(p, end);
        if (hi < 0) {
          cp = 'u';  // not valid JSON; read it as the letters it is
          break;
        }
        p += 4;
        cp = static_cast<char32_t>(hi);
        if (hi >= 0xD800 && hi <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
          const std::int32_t lo = hex4(p + 2, end);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((static_cast<char32_t>(hi) - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          }
        }
        break;
      }
    }
    step(s, cp);  // a lone surrogate classifies as invalid
  }
  milli_tokens_ += s.finish();
}

std::uint64_t estimate_tokens(std::string_view utf8) {
  TokenEstimator e;
  e.add_text(utf8);
  return e.tokens();
}

}  // namespace switchyard::routing

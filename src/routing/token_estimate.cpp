#include "switchyard/routing/token_estimate.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "token_prices.hpp"
#include "unicode_class.hpp"

namespace switchyard::routing {

namespace {

using namespace token_prices;

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

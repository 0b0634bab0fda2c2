// Unicode classification for the token estimator (token_estimate.cpp): UTF-8 decoding and, per
// code point, the character class o200k_base's pre-tokenizer sees and the script whose BPE merges
// price it. Private to routing/; inline, since the estimator calls it for every non-ASCII
// character.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace switchyard::routing::unicode {

// What a code point is to o200k_base's pre-tokenizer regex (letter, digit, whitespace, newline,
// anything else) together with the script whose BPE merges will price it.
enum Cls : std::uint8_t {
  kLower,  // ASCII letters
  kUpper,
  kAccentLower,  // Latin-1's and Vietnamese accented letters: é, ß, ư
  kAccentUpper,
  kRareLatinLower,  // Latin Extended-A and -B, the letters of Central European and Turkish: ł, ş
  kRareLatinUpper,
  kCyrLower,  // Russian's
  kCyrUpper,
  kRareCyrLower,  // the other Cyrillic languages' letters: і, ї, є, ґ, ј
  kRareCyrUpper,
  kGreekLower,
  kGreekUpper,
  kArabic,
  kHebrew,
  kIndic,  // Devanagari to Sinhala, their vowel signs included
  kThai,   // and Lao
  kHan,
  kKana,
  kHangul,
  kOtherLetter,
  kMark,  // a combining mark (\p{M}) continues the letter run it follows
  kDigit,
  kSpace,
  kTab,  // and the other blanks that are not U+0020: only a space joins the next pre-token
  kNewline,
  kPunct,  // ASCII punctuation and symbols
  kApostrophe,
  kSymbol,   // other BMP punctuation and symbols: — “ ” € → ， 。
  kEmoji,    // astral symbols, one to three tokens each
  kFlag,     // a regional indicator, half a flag
  kJoiner,   // ZWJ, variation selectors: glue inside an emoji sequence
  kInvalid,  // a byte that is not UTF-8 (or a lone surrogate): a byte-fallback token
  // Latin Extended-A and Additional, Cyrillic extensions: case alternates with the code point's
  // parity; resolved by classify().
  kAccentAlt,
  kRareLatinAlt,
  kRareCyrAlt,
};

enum Script : std::uint8_t {
  kLatin,
  kCyrillic,
  kGreek,
  kArabicScript,
  kHebrewScript,
  kIndicScript,
  kThaiScript,
  kCjk,  // Han and kana: o200k_base keeps a whole run as one pre-token
  kHangulScript,
  kOtherScript,
};

constexpr Script script_of(Cls c) {
  switch (c) {
    case kCyrLower:
    case kCyrUpper:
    case kRareCyrLower:
    case kRareCyrUpper:
      return kCyrillic;
    case kGreekLower:
    case kGreekUpper:
      return kGreek;
    case kArabic:
      return kArabicScript;
    case kHebrew:
      return kHebrewScript;
    case kIndic:
      return kIndicScript;
    case kThai:
      return kThaiScript;
    case kHan:
    case kKana:
      return kCjk;
    case kHangul:
      return kHangulScript;
    case kOtherLetter:
    case kMark:
      return kOtherScript;
    default:
      return kLatin;
  }
}

constexpr bool is_upper(Cls c) {
  return c == kUpper || c == kAccentUpper || c == kRareLatinUpper || c == kCyrUpper ||
         c == kRareCyrUpper || c == kGreekUpper;
}
constexpr bool is_rare(Cls c) {
  return c == kRareLatinLower || c == kRareLatinUpper || c == kRareCyrLower || c == kRareCyrUpper;
}

// ASCII by table; the estimator's loops read it directly for their single-byte fast path.
inline constexpr std::array<Cls, 128> kAscii = [] {
  std::array<Cls, 128> t{};
  for (int b = 0; b < 128; ++b) {
    Cls c = kPunct;  // controls other than the blanks are neither letters nor \s
    if (b >= 'a' && b <= 'z')
      c = kLower;
    else if (b >= 'A' && b <= 'Z')
      c = kUpper;
    else if (b >= '0' && b <= '9')
      c = kDigit;
    else if (b == ' ')
      c = kSpace;
    else if (b == '\t' || b == '\v' || b == '\f')
      c = kTab;
    else if (b == '\n' || b == '\r')
      c = kNewline;
    else if (b == '\'')
      c = kApostrophe;
    t[b] = c;
  }
  return t;
}();

// Non-ASCII code points by the first of each range; a range runs to the next entry's start.
struct Range {
  char32_t first;
  Cls cls;
};
inline constexpr Range kRanges[] = {
    {0x80, kPunct},          {0xA0, kSpace},           {0xA1, kSymbol},
    {0xC0, kAccentUpper},    {0xD7, kSymbol},          {0xD8, kAccentUpper},
    {0xDF, kAccentLower},    {0xF7, kSymbol},          {0xF8, kAccentLower},
    {0x100, kRareLatinAlt},  {0x180, kRareLatinLower}, {0x250, kAccentLower},
    {0x2B0, kOtherLetter},   {0x300, kMark},           {0x370, kGreekLower},
    {0x386, kGreekUpper},    {0x3AC, kGreekLower},     {0x400, kRareCyrUpper},
    {0x401, kCyrUpper},  // Ё
    {0x402, kRareCyrUpper},  {0x410, kCyrUpper},       {0x430, kCyrLower},
    {0x450, kRareCyrLower},  {0x451, kCyrLower},       {0x452, kRareCyrLower},
    {0x460, kRareCyrAlt},    {0x530, kOtherLetter},    {0x591, kMark},
    {0x5D0, kHebrew},        {0x600, kSymbol},         {0x620, kArabic},
    {0x64B, kMark},          {0x660, kDigit},          {0x66A, kSymbol},
    {0x66E, kArabic},        {0x6D4, kSymbol},         {0x6D5, kArabic},
    {0x700, kOtherLetter},   {0x750, kArabic},         {0x780, kOtherLetter},
    {0x8A0, kArabic},        {0x900, kIndic},          {0x964, kSymbol},
    {0x966, kDigit},         {0x970, kIndic},          {0xE00, kThai},
    {0xF00, kOtherLetter},   {0x1100, kHangul},        {0x1200, kOtherLetter},
    {0x1E00, kAccentAlt},    {0x1F00, kGreekLower},    {0x2000, kSpace},
    {0x200B, kJoiner},       {0x2010, kSymbol},        {0x2028, kNewline},
    {0x202A, kJoiner},       {0x202F, kSpace},         {0x2030, kSymbol},
    {0x205F, kSpace},        {0x2060, kJoiner},        {0x2070, kSymbol},
    {0x20D0, kMark},         {0x2100, kSymbol},        {0x2C00, kOtherLetter},
    {0x2E00, kSymbol},       {0x2E80, kHan},           {0x3000, kSpace},
    {0x3001, kSymbol},       {0x3040, kKana},          {0x3100, kHan},
    {0x3130, kHangul},       {0x3190, kHan},           {0x31F0, kKana},
    {0x3200, kSymbol},       {0x3400, kHan},           {0x4DC0, kSymbol},
    {0x4E00, kHan},          {0xA000, kOtherLetter},   {0xAC00, kHangul},
    {0xD800, kInvalid},      {0xE000, kSymbol},        {0xF900, kHan},
    {0xFB00, kOtherLetter},  {0xFB50, kArabic},        {0xFE00, kJoiner},
    {0xFE10, kSymbol},       {0xFE70, kArabic},        {0xFEFF, kJoiner},
    {0xFF00, kSymbol},       {0xFF10, kDigit},         {0xFF1A, kSymbol},
    {0xFF21, kOtherLetter},  {0xFF3B, kSymbol},        {0xFF41, kOtherLetter},
    {0xFF5B, kSymbol},       {0xFF66, kKana},          {0xFFA0, kHangul},
    {0xFFE0, kSymbol},       {0x10000, kOtherLetter},  {0x1F000, kEmoji},
    {0x1F1E6, kFlag},        {0x1F200, kEmoji},        {0x20000, kHan},
    {0x40000, kOtherLetter}, {0xE0000, kJoiner},       {0xE0080, kOtherLetter},
};

inline Cls classify(char32_t cp) {
  if (cp < 0x80) return kAscii[cp];
  const Range* r = std::upper_bound(std::begin(kRanges), std::end(kRanges), cp,
                                    [](char32_t v, const Range& e) { return v < e.first; }) -
                   1;
  switch (r->cls) {
    case kAccentAlt:
      return (cp & 1) ? kAccentLower : kAccentUpper;
    case kRareLatinAlt:
      return (cp & 1) ? kRareLatinLower : kRareLatinUpper;
    case kRareCyrAlt:
      return (cp & 1) ? kRareCyrLower : kRareCyrUpper;
    default:
      break;
  }
  return r->cls;
}

// Decodes UTF-8 at `p`, at most `end`; a byte that does not start a well-formed sequence is
// one invalid code point (U+FFFD's byte-fallback price).
inline char32_t decode_utf8(const unsigned char*& p, const unsigned char* end) {
  const unsigned b = *p;
  auto cont = [&](std::ptrdiff_t i) { return p + i < end && (p[i] & 0xC0) == 0x80; };
  if (b >= 0xC2 && b <= 0xDF && cont(1)) {
    const char32_t cp = ((b & 0x1F) << 6) | (p[1] & 0x3F);
    p += 2;
    return cp;
  }
  if (b >= 0xE0 && b <= 0xEF && cont(1) && cont(2)) {
    const char32_t cp = ((b & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
      p += 3;
      return cp;
    }
  }
  if (b >= 0xF0 && b <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const char32_t cp =
        ((b & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    if (cp >= 0x10000 && cp <= 0x10FFFF) {
      p += 4;
      return cp;
    }
  }
  ++p;
  return 0xD800;  // a surrogate code point: classified invalid
}

}  // namespace switchyard::routing::unicode

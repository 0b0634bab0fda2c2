// Session ids signed and checked: key rotation, every way a token can be malformed or altered,
// the HMAC against RFC 4231 and base64url against RFC 4648.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <utility>

#include "switchyard/mcp/session_signer.hpp"

namespace switchyard::mcp {
namespace {

constexpr std::string_view kPayload = R"({"v":"2025-11-25","k":"team-a"})";

// The token's two parts, decoded.
std::pair<std::string, std::string> parts(const std::string& token) {
  const std::size_t dot = token.find('.');
  return {base64url_decode(token.substr(0, dot)).value(),
          base64url_decode(token.substr(dot + 1)).value()};
}

std::string token_of(std::string_view payload, std::string_view mac) {
  return base64url_encode(payload) + '.' + base64url_encode(mac);
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += kDigits[static_cast<unsigned char>(c) >> 4];
    out += kDigits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

TEST(SessionSigner, ReturnsThePayloadOfATokenItSigned) {
  const SessionSigner signer("current key", "");
  EXPECT_EQ(signer.verify(signer.sign(kPayload)), std::string(kPayload));
  const std::string binary("a.b\0\xff", 5);
  EXPECT_EQ(signer.verify(signer.sign(binary)), binary);
}

TEST(SessionSigner, MacsWithHmacSha256AsRfc4231TestCase2) {
  const SessionSigner signer("Jefe", "");
  const auto [payload, mac] = parts(signer.sign("what do ya want for nothing?"));
  EXPECT_EQ(payload, "what do ya want for nothing?");
  EXPECT_EQ(hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SessionSigner, MakesTokensOfVisibleAsciiOnly) {
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  for (const char c : SessionSigner("key", "").sign(every_byte)) {
    EXPECT_GE(c, 0x21);
    EXPECT_LE(c, 0x7E);
  }
}

TEST(SessionSigner, AcceptsTokenSignedWithPreviousKey) {
  const std::string token = SessionSigner("old key", "").sign(kPayload);
  EXPECT_EQ(SessionSigner("new key", "old key").verify(token), std::string(kPayload));
}

TEST(SessionSigner, RefusesTokenSignedWithAKeyThatIsNeitherCurrentNorPrevious) {
  const std::string token = SessionSigner("other key", "").sign(kPayload);
  EXPECT_EQ(SessionSigner("new key", "old key").verify(token), std::nullopt);
}

TEST(SessionSigner, SignsWithOneRandomKeyPerProcessWithoutACurrentKey) {
  const SessionSigner first("", "");
  const SessionSigner second("", "");
  const SessionSigner configured("configured key", "");
  EXPECT_EQ(second.verify(first.sign(kPayload)), std::string(kPayload));
  EXPECT_EQ(configured.verify(first.sign(kPayload)), std::nullopt);
  EXPECT_EQ(first.verify(configured.sign(kPayload)), std::nullopt);
}

TEST(SessionSigner, RefusesToSignAnEmptyPayload) {
  EXPECT_THROW(SessionSigner("key", "").sign(""), std::invalid_argument);
}

TEST(SessionSigner, RefusesMalformedTokens) {
  const SessionSigner signer("key", "");
  const std::string token = signer.sign(kPayload);
  const std::size_t dot = token.find('.');
  const std::string payload_text = token.substr(0, dot);
  const std::string mac_text = token.substr(dot + 1);
  for (const std::string& bad : {
           std::string(), payload_text + mac_text,                               // no '.'
           std::string("."), "." + mac_text, payload_text + ".",                 // an empty part
           payload_text + "=." + mac_text, payload_text + "." + mac_text + "=",  // padding
           "+" + payload_text + "." + mac_text,  // not the url alphabet
           token + ".", token + "." + mac_text,  // a third part
       }) {
    EXPECT_EQ(signer.verify(bad), std::nullopt) << bad;
  }
}

TEST(SessionSigner, RefusesEmptyPayloadEvenWithItsRightMac) {
  unsigned char mac[32];
  unsigned int size = 0;
  HMAC(EVP_sha256(), "key", 3, nullptr, 0, mac, &size);
  ASSERT_EQ(size, 32u);
  const std::string token = "." + base64url_encode({reinterpret_cast<char*>(mac), size});
  EXPECT_EQ(SessionSigner("key", "").verify(token), std::nullopt);
}

TEST(SessionSigner, RefusesMacOfTheWrongLength) {
  const SessionSigner signer("key", "");
  const auto [payload, mac] = parts(signer.sign(kPayload));
  EXPECT_EQ(signer.verify(token_of(payload, mac.substr(0, 31))), std::nullopt);
  EXPECT_EQ(signer.verify(token_of(payload, mac + '\0')), std::nullopt);
}

TEST(SessionSigner, RefusesPayloadAlteredByOneByte) {
  const SessionSigner signer("key", "");
  const auto [payload, mac] = parts(signer.sign(kPayload));
  for (std::size_t i = 0; i < payload.size(); ++i) {
    std::string altered = payload;
    altered[i] ^= 1;
    EXPECT_EQ(signer.verify(token_of(altered, mac)), std::nullopt) << i;
  }
}

TEST(SessionSigner, RefusesMacAlteredByOneByte) {
  const SessionSigner signer("key", "");
  const auto [payload, mac] = parts(signer.sign(kPayload));
  for (std::size_t i = 0; i < mac.size(); ++i) {
    std::string altered = mac;
    altered[i] ^= 1;
    EXPECT_EQ(signer.verify(token_of(payload, altered)), std::nullopt) << i;
  }
}

TEST(Base64url, EncodesAndDecodesTheRfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(base64url_encode(bytes), text);
    EXPECT_EQ(base64url_decode(text), bytes) << text;
  }
}

TEST(Base64url, UsesDashAndUnderscoreForTheLastTwoDigits) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
}

TEST(Base64url, RejectsCharactersOutsideTheUrlAlphabet) {
  for (const std::string_view bad : {"Zm9+", "Zm9/", "Zm 9", "Zm9v\n", "Zm.v", "Zm9\xc3"}) {
    EXPECT_EQ(base64url_decode(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(base64url_decode(std::string_view("Zm9\0", 4)), std::nullopt);
}

TEST(Base64url, RejectsPadding) {
  EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm8="), std::nullopt);
}

TEST(Base64url, RejectsImpossibleLengths) {
  EXPECT_EQ(base64url_decode("Z"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9vY"), std::nullopt);
  // 'A' is six zero bits: only the length check refuses these.
  EXPECT_EQ(base64url_decode("A"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9vA"), std::nullopt);
}

TEST(Base64url, RejectsNonZeroBitsAfterTheLastByte) {
  // "Zg" and "Zm8" are canonical; "Zh" and "Zm9" decode to the same bytes with stray bits.
  EXPECT_EQ(base64url_decode("Zh"), std::nullopt);
  EXPECT_EQ(base64url_decode("Zm9"), std::nullopt);
}

}  // namespace
}  // namespace switchyard::mcp

// Upstream TLS: verified against the configured CA with the hostname checked, refused otherwise.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

std::string tls_config(const std::string& host, int port, const std::string& ca_line) {
  return "providers:\n  secure:\n    type: openai\n    base_url: https://" + host + ":" +
         std::to_string(port) + "/v1\n    api_key: sk-tls-secret\n" + ca_line +
         "models:\n  small: { provider: secure }\n";
}

class Tls : public ::testing::Test {
 protected:
  TempDir dir_;
  TestPki pki_ = make_test_pki(dir_, "DNS:localhost,IP:127.0.0.1");
  Mock mock_{
      dir_,
      {"tls", {"--tls-cert", pki_.server_cert.string(), "--tls-key", pki_.server_key.string()}}};
};

TEST_F(Tls, RelaysJsonAndStreamsThroughAVerifiedUpstream) {
  Gateway gw(dir_,
             tls_config("localhost", mock_.port(), "    ca_file: " + pki_.ca_cert.string() + "\n"));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("small"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, mock_.requests()[0]["response_body"].get<std::string>());
  const auto s = client.post_json("/v1/chat/completions", chat_body("small", true));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(sse_data(s.body).back(), "[DONE]");
  // Both over one pooled TLS connection; the other two are the harness's own requests() and
  // stats() connections.
  const auto stats = mock_.stats();
  EXPECT_EQ(stats["requests"]["POST /v1/chat/completions"], 2);
  EXPECT_EQ(stats["connections_accepted"], 3);
}

TEST_F(Tls, VerifiesAnIpAddressAgainstTheCertificate) {
  Gateway gw(dir_,
             tls_config("127.0.0.1", mock_.port(), "    ca_file: " + pki_.ca_cert.string() + "\n"));
  HttpClient client(gw.port());
  EXPECT_EQ(client.post_json("/v1/chat/completions", chat_body("small")).status, 200);
}

TEST_F(Tls, RefusesAnUpstreamWhoseCertificateIsNotTrusted) {
  // No ca_file: the system store does not know the test CA.
  Gateway gw(dir_, tls_config("localhost", mock_.port(), ""));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("small"));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("certificate"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("sk-tls-secret"), std::string::npos);
  EXPECT_EQ(mock_.stats()["requests"].value("POST /v1/chat/completions", 0), 0);
}

TEST_F(Tls, RefusesACertificateIssuedForAnotherName) {
  TempDir other_dir;
  const TestPki other = make_test_pki(other_dir, "DNS:api.example.test");
  Mock wrong_name(
      dir_, {"wrong",
             {"--tls-cert", other.server_cert.string(), "--tls-key", other.server_key.string()}});
  Gateway gw(dir_, tls_config("localhost", wrong_name.port(),
                              "    ca_file: " + other.ca_cert.string() + "\n"));
  HttpClient client(gw.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("small"));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("certificate"), std::string::npos) << r.body;
  EXPECT_EQ(wrong_name.stats()["requests"].value("POST /v1/chat/completions", 0), 0);
}

}  // namespace
}  // namespace switchyard::testing

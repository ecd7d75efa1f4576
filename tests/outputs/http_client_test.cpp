#include "outputs/http/http_client.hpp"

#include <gtest/gtest.h>

#include "tests/support/http_test_server.hpp"
#include "tests/support/tls_test_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs::http {
namespace {

using slipway::testing::HttpReply;
using slipway::testing::HttpTestServer;
using slipway::testing::TempDir;
using slipway::testing::TlsTestServer;

class HttpClientTest : public ::testing::Test {
 protected:
  static ClientSettings short_timeouts() {
    ClientSettings settings;
    settings.connect_timeout = std::chrono::milliseconds(2000);
    settings.timeout = std::chrono::milliseconds(500);
    return settings;
  }

  static Result post(HttpClient& client, const std::string& url, std::string_view body = "{}") {
    return client.send(Request{"POST", url, {{"Content-Type", "application/json"}}, body});
  }

  // A self-signed certificate for 127.0.0.1, or nothing when openssl is missing.
  std::optional<slipway::testing::TestCertificate> certificate(std::string_view name) {
    return slipway::testing::make_self_signed_certificate(dir_.path(), name);
  }

  TempDir dir_;
  HttpTestServer server_;
};

// Method, headers and body arrive as sent, and the response's status,
// headers and body come back.
TEST_F(HttpClientTest, SendsRequestAndReadsResponse) {
  server_.enqueue(HttpReply{.status = 201, .headers = {{"X-Answer", "yes"}}, .body = "created"});
  HttpClient client(short_timeouts());
  const Result result =
      client.send(Request{"PUT", server_.url("/ingest?x=1"), {{"X-Sensor", "lab-1"}}, R"({"ID":"a"})"});

  ASSERT_TRUE(result.response.has_value()) << result.error;
  EXPECT_EQ(result.response->status, 201);
  EXPECT_EQ(result.response->header("x-answer"), "yes");
  EXPECT_EQ(result.response->body, "created");
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/ingest?x=1");
  EXPECT_EQ(requests[0].header("X-Sensor"), "lab-1");
  EXPECT_EQ(requests[0].body, R"({"ID":"a"})");
}

// Requests of one client share one TCP connection while the server keeps it open.
TEST_F(HttpClientTest, ReusesConnection) {
  HttpClient client(short_timeouts());
  for (int request = 0; request < 3; ++request) {
    ASSERT_TRUE(post(client, server_.url()).response.has_value());
  }
  EXPECT_EQ(server_.request_count(), 3u);
  EXPECT_EQ(server_.connection_count(), 1u);
}

// Bodies over 1 KiB go out at once, without waiting for "100 Continue".
TEST_F(HttpClientTest, SendsLargeBodyWithoutExpectContinue) {
  HttpClient client(short_timeouts());
  const std::string body(200 * 1024, 'x');
  ASSERT_TRUE(post(client, server_.url(), body).response.has_value());
  const auto requests = server_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].header("Expect").has_value());
  EXPECT_EQ(requests[0].body.size(), body.size());
}

// A response body larger than the limit is cut and marked.
TEST_F(HttpClientTest, CutsLargeResponseBody) {
  server_.enqueue(HttpReply{.status = 400, .body = std::string(Response::kMaxResponseBodyBytes + 10, 'e')});
  HttpClient client(short_timeouts());
  const Result result = post(client, server_.url());
  ASSERT_TRUE(result.response.has_value());
  EXPECT_EQ(result.response->body.size(), Response::kMaxResponseBodyBytes);
  EXPECT_TRUE(result.response->body_truncated);
}

// A stopped server refuses the connection: retryable, nothing was sent.
TEST_F(HttpClientTest, ClassifiesRefusedConnection) {
  server_.stop();
  HttpClient client(short_timeouts());
  const Result result = post(client, server_.url());
  EXPECT_FALSE(result.response.has_value());
  EXPECT_EQ(result.failure, TransportFailure::Connect);
  EXPECT_TRUE(result.retryable);
  EXPECT_FALSE(result.request_sent);
  EXPECT_FALSE(result.error.empty());
}

// A server slower than timeout_ms gives a retryable timeout, marked as
// sent: the server may still process the request.
TEST_F(HttpClientTest, ClassifiesTimeoutAfterSending) {
  server_.enqueue(HttpReply{.delay = std::chrono::milliseconds(3000)});
  HttpClient client(short_timeouts());
  const Result result = post(client, server_.url());
  EXPECT_EQ(result.failure, TransportFailure::Timeout);
  EXPECT_TRUE(result.retryable);
  EXPECT_TRUE(result.request_sent);
  EXPECT_NE(result.error.find("imed out"), std::string::npos) << result.error;
}

// A connection closed without any response is retryable, and the next
// request opens a new connection.
TEST_F(HttpClientTest, ClassifiesConnectionClosedWithoutResponse) {
  server_.enqueue(HttpReply{.close_without_reply = true});
  HttpClient client(short_timeouts());
  const Result lost = post(client, server_.url());
  EXPECT_EQ(lost.failure, TransportFailure::ConnectionLost);
  EXPECT_TRUE(lost.retryable);
  EXPECT_TRUE(lost.request_sent);

  const Result next = post(client, server_.url());
  ASSERT_TRUE(next.response.has_value()) << next.error;
  EXPECT_EQ(next.response->status, 200);
  EXPECT_EQ(server_.connection_count(), 2u);
}

// A scheme libcurl is not allowed to use cannot work on any retry.
TEST_F(HttpClientTest, ClassifiesUnsupportedSchemeAsFinal) {
  HttpClient client(short_timeouts());
  const Result result = post(client, "ftp://127.0.0.1/");
  EXPECT_EQ(result.failure, TransportFailure::InvalidRequest);
  EXPECT_FALSE(result.retryable);
}

// URLs are checked when the configuration is read, and messages never
// show user information or a query.
TEST_F(HttpClientTest, ChecksUrlsAndHidesTheirSecrets) {
  EXPECT_FALSE(check_url("https://siem.example.com:8443/ingest").has_value());
  EXPECT_EQ(check_url("siem.example.com/ingest"), "expected an absolute http:// or https:// URL");
  EXPECT_EQ(check_url("ftp://siem.example.com/"), "unsupported scheme \"ftp\"; expected http or https");
  EXPECT_EQ(check_url("https://slips:secret@siem.example.com/"),
            "user information in the URL would appear in logs; remove it and set auth instead");
  EXPECT_EQ(url_for_messages("https://u:p@siem.example.com/in?api_key=secret#top"), "https://siem.example.com/in");
}

// Header names are RFC 9110 tokens; values cannot hold a line break.
TEST_F(HttpClientTest, ValidatesHeaderNamesAndValues) {
  EXPECT_TRUE(is_valid_header_name("X-Api-Key"));
  EXPECT_TRUE(is_valid_header_name("x_custom.1!"));
  EXPECT_FALSE(is_valid_header_name(""));
  EXPECT_FALSE(is_valid_header_name("X Key"));
  EXPECT_FALSE(is_valid_header_name("X-Key:"));
  EXPECT_FALSE(is_valid_header_name("Ünicode"));
  EXPECT_TRUE(is_valid_header_value("a value; with $ and \"quotes\""));
  EXPECT_FALSE(is_valid_header_value("first\r\nInjected: yes"));
  EXPECT_FALSE(is_valid_header_value(std::string("nul\0byte", 8)));
}

// By default a self-signed server certificate fails verification.
TEST_F(HttpClientTest, RejectsSelfSignedCertificateByDefault) {
  const auto server_certificate = certificate("server");
  if (!server_certificate) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  TlsTestServer tls_server(*server_certificate);
  ASSERT_TRUE(tls_server.ready()) << "the TLS test server could not load its certificate";
  HttpClient client(short_timeouts());
  const Result result = post(client, tls_server.url());
  EXPECT_FALSE(result.response.has_value());
  EXPECT_EQ(result.failure, TransportFailure::Tls);
  EXPECT_TRUE(result.retryable);
  EXPECT_NE(result.error.find("certificate"), std::string::npos) << result.error;
  EXPECT_EQ(tls_server.request_count(), 0u);
}

// tls.ca_file naming the server's certificate makes it trusted.
TEST_F(HttpClientTest, TrustsCertificateFromCaFile) {
  const auto server_certificate = certificate("server");
  if (!server_certificate) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  TlsTestServer tls_server(*server_certificate);
  ASSERT_TRUE(tls_server.ready()) << "the TLS test server could not load its certificate";
  ClientSettings settings = short_timeouts();
  settings.tls.ca_file = server_certificate->cert_file;
  HttpClient client(settings);
  const Result result = post(client, tls_server.url());
  ASSERT_TRUE(result.response.has_value()) << result.error;
  EXPECT_EQ(result.response->status, 200);
  EXPECT_EQ(tls_server.request_count(), 1u);
}

// tls.verify false accepts the certificate without any CA.
TEST_F(HttpClientTest, AcceptsAnyCertificateWhenVerifyIsOff) {
  const auto server_certificate = certificate("server");
  if (!server_certificate) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  TlsTestServer tls_server(*server_certificate);
  ASSERT_TRUE(tls_server.ready()) << "the TLS test server could not load its certificate";
  ClientSettings settings = short_timeouts();
  settings.tls.verify = false;
  HttpClient client(settings);
  const Result result = post(client, tls_server.url());
  ASSERT_TRUE(result.response.has_value()) << result.error;
  EXPECT_EQ(result.response->status, 200);
}

// A server that requires a client certificate accepts the one in
// tls.cert_file and tls.key_file, and rejects a client without one.
TEST_F(HttpClientTest, PresentsClientCertificate) {
  const auto server_certificate = certificate("server");
  const auto client_certificate = certificate("client");
  if (!server_certificate || !client_certificate) {
    GTEST_SKIP() << "the openssl command is not available";
  }
  TlsTestServer tls_server(*server_certificate, client_certificate->cert_file);
  ASSERT_TRUE(tls_server.ready()) << "the TLS test server could not load its certificate";
  ClientSettings settings = short_timeouts();
  settings.tls.ca_file = server_certificate->cert_file;
  HttpClient anonymous(settings);
  const Result rejected = post(anonymous, tls_server.url());
  EXPECT_FALSE(rejected.response.has_value());
  EXPECT_TRUE(rejected.retryable);

  settings.tls.cert_file = client_certificate->cert_file;
  settings.tls.key_file = client_certificate->key_file;
  HttpClient authenticated(settings);
  const Result accepted = post(authenticated, tls_server.url());
  ASSERT_TRUE(accepted.response.has_value()) << accepted.error;
  EXPECT_EQ(accepted.response->status, 200);
}

// A TLS file that cannot be read stops the client from being created,
// naming the key and the path.
TEST_F(HttpClientTest, ReportsUnreadableTlsFile) {
  ClientSettings settings = short_timeouts();
  settings.tls.ca_file = dir_ / "missing-ca.pem";
  try {
    HttpClient client(settings);
    FAIL() << "a missing ca_file was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()), "tls.ca_file " + (dir_ / "missing-ca.pem").string() +
                                             " cannot be read: No such file or directory; check the path and its "
                                             "permissions");
  }
}

}  // namespace
}  // namespace slipway::outputs::http

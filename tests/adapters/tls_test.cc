// TLS against a real httplib::SSLServer on loopback with certificates made
// by openssl for the test: verification is on without being asked for, a
// custom authority is trusted through caFile, and a certificate that fails
// says why (an unknown authority, another host's name, expired) rather than
// "SSLServerVerification".

#include <catch2/catch.hpp>

#include <httplib.h>

#include <chrono>
#include <memory>
#include <thread>

#include "adapters/homeserver/http_homeserver.h"
#include "adapters/homeserver/matrix_client.h"
#include "tests/support/tls_certificates.h"

namespace tls_test {

namespace {

// One set of certificates for the whole suite: openssl takes a moment.
const testing_support::TlsCertificates& certificates() {
  static const testing_support::TlsCertificates made;
  return made;
}

// An https homeserver that knows /_matrix/client/versions only.
class TlsServer {
 public:
  explicit TlsServer(const testing_support::CertificateFiles& files)
      : m_server(files.certificate.c_str(), files.key.c_str()) {
    REQUIRE(m_server.is_valid());
    m_server.Get("/_matrix/client/versions", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"versions": ["v1.11"]})", "application/json");
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    while (!m_server.is_running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~TlsServer() {
    m_server.stop();
    m_thread.join();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }
  std::string url() const { return "https://" + host(); }

 private:
  httplib::SSLServer m_server;
  std::thread m_thread;
  int m_port = 0;
};

adapters::ClientOptions trusting(const std::string& ca_file) {
  adapters::ClientOptions options;
  options.read_attempts = 1;
  options.ca_file = ca_file;
  return options;
}

std::string failure_of(const TlsServer& server, const std::string& ca_file) {
  adapters::MatrixClient client(server.url(), "tok", trusting(ca_file));
  auto response = client.get("/_matrix/client/versions");
  REQUIRE_FALSE(response);
  // A certificate that fails now fails on the next try too.
  CHECK_FALSE(response.error().error.retryable());
  return response.error().error.message;
}

}  // namespace

TEST_CASE("tls: a certificate from the authority in caFile is trusted", "[tls]") {
  TlsServer server(certificates().good());
  adapters::MatrixClient client(server.url(), "tok", trusting(certificates().ca_file()));
  auto response = client.get("/_matrix/client/versions");
  REQUIRE(response);
  CHECK((*response)["versions"] == nlohmann::json::array({"v1.11"}));
}

TEST_CASE("tls: verification is on by default: an authority the system does not know is refused", "[tls]") {
  TlsServer server(certificates().good());
  CHECK(failure_of(server, "") == "GET /_matrix/client/versions: the TLS certificate of " + server.host() +
                                      " is signed by an unknown certificate authority (caFile names the "
                                      "certificate authorities to trust)");
}

TEST_CASE("tls: a self-signed certificate is refused, saying so", "[tls]") {
  TlsServer server(certificates().self_signed());
  CHECK(failure_of(server, certificates().ca_file()) ==
        "GET /_matrix/client/versions: the TLS certificate of " + server.host() +
            " is self-signed, by an unknown certificate authority (caFile names the certificate authorities to "
            "trust)");
}

TEST_CASE("tls: a certificate for another host name is refused, saying so", "[tls]") {
  TlsServer server(certificates().other_host());
  CHECK(failure_of(server, certificates().ca_file()) ==
        "GET /_matrix/client/versions: the TLS certificate of " + server.host() +
            " is for another host name (host name mismatch): it does not name 127.0.0.1");
}

TEST_CASE("tls: an expired certificate is refused, saying so", "[tls]") {
  TlsServer server(certificates().expired());
  CHECK(failure_of(server, certificates().ca_file()) ==
        "GET /_matrix/client/versions: the TLS certificate of " + server.host() + " has expired");
}

TEST_CASE("tls: a caFile that holds no certificate is said to be the problem", "[tls]") {
  TlsServer server(certificates().good());
  // A key is PEM, but no certificate.
  CHECK(failure_of(server, certificates().good().key) ==
        "GET /_matrix/client/versions: cannot load the certificate authorities to trust from caFile " +
            certificates().good().key);
}

TEST_CASE("tls: the probe's error names the homeserver and the certificate's fault", "[tls]") {
  TlsServer server(certificates().expired());
  model::Settings settings;
  settings.homeserver_url = server.url();
  settings.server_name = "example.org";
  settings.bot_user_id = "@mxctl:example.org";
  adapters::HttpHomeserver homeserver(settings, "tok", trusting(certificates().ca_file()));
  auto caps = homeserver.probe();
  REQUIRE_FALSE(caps);
  CHECK(caps.error().message == "cannot reach the homeserver at " + server.url() +
                                    ": GET /_matrix/client/versions: the TLS certificate of " + server.host() +
                                    " has expired");
}

}  // namespace tls_test

// The mxctl binary against a homeserver that never answers, drips its
// answer a byte at a time, or announces more than any Matrix answer is: the
// pass ends within the bounds the config file sets and says which bound it
// hit, never blaming the access token; and a homeserver URL with a password
// in it is refused without printing the password.

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "tests/support/process.h"
#include "tests/support/scripted_server.h"
#include "tests/support/temp_dir.h"

namespace bounded_answers_test {

namespace {

using testing_support::ScriptedReply;
using testing_support::ScriptedRequest;
using testing_support::ScriptedServer;

const std::string k_bot = "@mxctl:example.org";

// `mxctl plan` of the example manifests against `url`, with `config`.
testing_support::ProcessResult plan_against(const std::string& url, const std::string& config) {
  testing_support::TempDir dir;
  const std::string config_file = dir.write("mxctl.yaml", config);
  return testing_support::run_process(
      {MXCTL_BINARY, "--config", config_file, "plan", std::string(MXCTL_SOURCE_DIR) + "/manifests"},
      {{"MATRIX_HOMESERVER_URL", url},
       {"MATRIX_SERVER_NAME", "example.org"},
       {"MATRIX_BOT_USER_ID", k_bot},
       {"MATRIX_BOT_ACCESS_TOKEN", "syt_secret_token"},
       {"MXCTL_STATE", (dir.path() / "mxctl.db").string()}});
}

// Answers the probe's first requests as a homeserver would, and `rest` the others.
ScriptedServer::Script homeserver_then(std::function<ScriptedReply(const ScriptedRequest&)> rest) {
  return [rest](const ScriptedRequest& request) {
    if (request.target == "/_matrix/client/versions") {
      return ScriptedReply::json(200, {{"versions", {"v1.11"}}});
    }
    if (request.target == "/_matrix/client/v3/account/whoami") {
      return ScriptedReply::json(200, {{"user_id", k_bot}});
    }
    return rest(request);
  };
}

std::string host_of(const ScriptedServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

}  // namespace

TEST_CASE("e2e: a homeserver that never answers ends the pass at the read timeout, named", "[e2e][bounds]") {
  ScriptedServer server([](const ScriptedRequest&) { return ScriptedReply::hang(); });
  auto plan = plan_against(server.url(), "readTimeoutSeconds: 1\n");
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 1);
  CHECK(plan.err.find("Error: cannot reach the homeserver at " + server.url() +
                      ": GET /_matrix/client/versions: no answer from " + host_of(server) +
                      " within 1 s (readTimeoutSeconds)") != std::string::npos);
  CHECK(plan.err.find("token") == std::string::npos);
}

TEST_CASE("e2e: an answer that drips in forever ends the pass at the request deadline, named", "[e2e][bounds]") {
  ScriptedServer server(homeserver_then([](const ScriptedRequest&) {
    return ScriptedReply::head(200, "Content-Type: application/json\r\nContent-Length: 100000\r\n")
        .drip(std::string(100000, ' '), std::chrono::milliseconds(200));
  }));
  auto plan = plan_against(server.url(), "requestTimeoutSeconds: 2\n");
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 1);
  CHECK(plan.err.find("GET /_synapse/admin/v1/server_version: no complete answer from " + host_of(server) +
                      " within 2 s (requestTimeoutSeconds)") != std::string::npos);
}

TEST_CASE("e2e: an answer over the size bound ends the pass, named, without reading it", "[e2e][bounds]") {
  ScriptedServer server(homeserver_then([](const ScriptedRequest&) {
    return ScriptedReply::head(200, "Content-Type: application/json\r\nContent-Length: 209715200\r\n").then_hang();
  }));
  auto plan = plan_against(server.url(), "maxAnswerMegabytes: 1\n");
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 1);
  CHECK(plan.err.find("GET /_synapse/admin/v1/server_version: the answer from " + host_of(server) +
                      " exceeded 1 MB (maxAnswerMegabytes); it announced 209715200 bytes") != std::string::npos);
}

TEST_CASE("e2e: a homeserver url's password is never printed", "[e2e][bounds]") {
  ScriptedServer server([](const ScriptedRequest&) { return ScriptedReply::hang(); });
  const std::string url = "http://admin:hunter2@" + host_of(server);
  auto plan = plan_against(url, "readTimeoutSeconds: 1\n");
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 1);
  CHECK(plan.err.find("hunter2") == std::string::npos);
  CHECK(plan.out.find("hunter2") == std::string::npos);
  CHECK(plan.err.find("http://admin:<redacted>@" + host_of(server)) != std::string::npos);
  // Refused before any request.
  CHECK(server.count() == 0);
}

}  // namespace bounded_answers_test

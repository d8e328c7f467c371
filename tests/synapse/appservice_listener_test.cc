// `mxctl run` serving the application-service API to a real Synapse 1.67,
// which loads the registration `mxctl appservice registration --url` wrote:
// an invite of a managed account not made yet makes Synapse ask mxctl
// (`GET {url}/users/{userId}?access_token=`), which registers it, and a
// lookup of a managed alias not made yet has its room created. Passes are
// held back (the bot's whoami fails, through a proxy) so that what exists
// afterwards is the queries' doing.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <thread>

#include "tests/e2e/answer_proxy.h"
#include "tests/support/child_process.h"
#include "tests/support/eventually.h"
#include "tests/support/http_json.h"
#include "tests/synapse/fixture.h"

namespace appservice_listener_test {

using synapse_e2e::Fixture;
using namespace std::chrono_literals;

using testing_support::eventually;

namespace {

// A TCP port on 127.0.0.1 free a moment ago: the registration must name
// mxctl's listener before Synapse starts, so before mxctl listens.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

TEST_CASE("synapse: Synapse asks mxctl run about a managed account or alias not made yet, and it is made",
          "[synapse][appservice][run]") {
  const int port = free_port();
  synapse_e2e::FixtureOptions options;
  options.appservice = true;
  options.appservice_url = "http://127.0.0.1:" + std::to_string(port);
  auto fx = Fixture::create(options);
  if (!fx) {
    return;
  }
  // mxctl reaches Synapse through a proxy that fails the bot's whoami: no
  // pass gets past its probe, the listener serves all the same.
  e2e::AnswerProxy proxy(fx->server().base_url());
  proxy.rewrite([](const std::string& method, const std::string& target,
                   const e2e::ProxiedAnswer&) -> std::optional<e2e::ProxiedAnswer> {
    if (method == "GET" && target.find("/account/whoami") != std::string::npos) {
      return e2e::ProxiedAnswer{500, R"({"errcode": "M_UNKNOWN", "error": "held back by the test"})"};
    }
    return std::nullopt;
  });
  std::map<std::string, std::string> env = fx->env();
  env["MATRIX_HOMESERVER_URL"] = proxy.url();
  testing_support::ChildProcess run(
      fx->argv({"run", fx->manifests(), "--listen", "127.0.0.1:0", "--appservice-listen",
                "127.0.0.1:" + std::to_string(port)}),
      env, fx->scratch("run.out"), fx->scratch("run.err"));
  REQUIRE(eventually([&] { return run.err().find("pass failed (start)") != std::string::npos; }, 120s));
  INFO(run.err());
  CHECK(run.err().find("serving the application-service API on http://127.0.0.1:" + std::to_string(port)) !=
        std::string::npos);
  // Synapse 1.67 has no ping endpoint (Matrix 1.7): said, not an error.
  CHECK(eventually([&] { return run.err().find("does not offer the appservice ping") != std::string::npos; }, 30s));

  const std::string carol = fx->user_id("carol");
  REQUIRE(!fx->server().user(carol));
  auto room = fx->server().admin("POST", "/_matrix/client/v3/createRoom", nlohmann::json::object());
  REQUIRE(room.ok());
  const std::string room_id = room.body["room_id"];
  // Synapse queries the user of an event it is about to push to the service
  // (handlers/appservice.py, _check_user_exists): an invite is one.
  auto invited = fx->server().admin(
      "POST", "/_matrix/client/v3/rooms/" + testing_support::url_encode(room_id) + "/invite", {{"user_id", carol}});
  INFO(invited.describe());
  CHECK(invited.ok());
  REQUIRE(eventually([&] { return fx->server().user(carol).has_value(); }, 60s));
  CHECK(fx->server().user(carol)->value("appservice_id", nlohmann::json()) == "mxctl");
  CHECK(eventually(
      [&] {
        auto profile = fx->server().admin("GET", "/_matrix/client/v3/profile/" + testing_support::url_encode(carol));
        return profile.ok() && profile.body.value("displayname", "") == "Carol Nguyen";
      },
      30s));
  CHECK(eventually([&] { return run.err().find("registered account.carol") != std::string::npos; }, 30s));

  // A directory lookup of a managed alias: Synapse asks, mxctl creates the
  // room (and its space) before answering, so the lookup finds it.
  const std::string alias = fx->alias("community/harbor/general");
  auto resolved =
      fx->server().admin("GET", "/_matrix/client/v3/directory/room/" + testing_support::url_encode(alias));
  INFO(resolved.describe());
  REQUIRE(resolved.ok());
  const std::string general = resolved.body["room_id"];
  const auto state = fx->server().room_state(general);
  CHECK(state.count("m.room.encryption|") == 1);
  CHECK(state.count(std::string(synapse_e2e::k_marker_type) + "|") == 1);
  const auto space = fx->server().room_of_alias(fx->alias("community/harbor"));
  REQUIRE(space);
  CHECK(state.count("m.space.parent|" + *space) == 1);
  CHECK(fx->server().room_state(*space).count("m.space.child|" + general) == 1);

  run.signal(SIGTERM);
  CHECK(run.wait_for(60s) == std::optional<int>(0));
}

}  // namespace appservice_listener_test

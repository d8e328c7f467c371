// The state file (in-process round trip) and the mxsim program itself:
// URL on stdout, admin token file, appservice files, clean SIGTERM, restart.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "mxsim/persistence.h"
#include "mxsim/tests/sim_fixture.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace persistence_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

/// A running mxsim process whose first stdout line (its URL) has been read.
class SimProcess {
 public:
  explicit SimProcess(const std::vector<std::string>& args) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    m_pid = fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      std::string binary = MXSIM_BINARY;
      argv.push_back(binary.data());
      std::vector<std::string> copies = args;
      for (auto& arg : copies) {
        argv.push_back(arg.data());
      }
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(out[1]);
    m_out = fdopen(out[0], "r");
    char line[512] = {0};
    if (fgets(line, sizeof line, m_out)) {
      m_url = line;
      while (!m_url.empty() && (m_url.back() == '\n' || m_url.back() == '\r')) {
        m_url.pop_back();
      }
    }
  }
  ~SimProcess() {
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
    if (m_out) {
      fclose(m_out);
    }
  }
  const std::string& url() const { return m_url; }
  int port() const { return std::stoi(m_url.substr(m_url.rfind(':') + 1)); }
  /// Sends SIGTERM and returns the exit status.
  int terminate() {
    kill(m_pid, SIGTERM);
    int status = 0;
    waitpid(m_pid, &status, 0);
    m_pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t m_pid = -1;
  FILE* m_out = nullptr;
  std::string m_url;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

nlohmann::json call(int port, const std::string& method, const std::string& path, const std::string& token,
                    const nlohmann::json& body = nullptr, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  httplib::Headers headers{{"Authorization", "Bearer " + token}};
  httplib::Result result = method == "GET"    ? client.Get(path.c_str(), headers)
                           : method == "PUT"  ? client.Put(path.c_str(), headers, body.dump(), "application/json")
                                              : client.Post(path.c_str(), headers, body.dump(), "application/json");
  REQUIRE(result);
  if (status) {
    *status = result->status;
  }
  return nlohmann::json::parse(result->body);
}

}  // namespace

TEST_CASE("mxsim: the state survives a save and load", "[mxsim]") {
  testing_support::TempDir dir;
  std::string file = (dir.path() / "state.json").string();
  std::string room_id;
  std::string token;
  {
    Sim sim;
    token = sim.user("bot");
    room_id = sim.create_room(token, {{"name", "Kept"}, {"room_alias_name", "kept"}});
    sim.put("/_matrix/client/v3/user/" + enc("@bot:mxsim.test") + "/account_data/m.direct", token, {{"a", {"b"}}});
    mxsim::write_state_file(sim.hs(), file);
  }
  Sim sim;
  REQUIRE(mxsim::read_state_file(sim.hs(), file));
  CHECK(sim.get("/_matrix/client/v3/account/whoami", token).body["user_id"] == "@bot:mxsim.test");
  CHECK(sim.get_state(token, room_id, "m.room.name").body["name"] == "Kept");
  CHECK(sim.get("/_matrix/client/v3/directory/room/" + enc("#kept:mxsim.test")).body["room_id"] == room_id);
  CHECK(sim.get("/_matrix/client/v3/user/" + enc("@bot:mxsim.test") + "/account_data/m.direct", token).body["a"][0] == "b");
  Reply topic = sim.put_state(token, room_id, "m.room.topic", "", {{"topic", "after restart"}});
  CHECK(topic.status == 200);
  Reply sync = sim.get("/_matrix/client/v3/sync", token);
  CHECK(sync.body["rooms"]["join"].contains(room_id));

  SECTION("a state file for another server name is refused") {
    Sim other("other.test");
    CHECK_THROWS(mxsim::read_state_file(other.hs(), file));
  }
  SECTION("a missing file is simply absent") {
    Sim fresh;
    CHECK(!mxsim::read_state_file(fresh.hs(), (dir.path() / "none.json").string()));
  }
}

TEST_CASE("mxsim: the program prints its URL, writes the admin token and keeps state across restarts", "[mxsim]") {
  testing_support::TempDir dir;
  std::string token_file = (dir.path() / "admin.token").string();
  std::string state_file = (dir.path() / "state.json").string();
  std::string registration = dir.write("bridge.yaml", R"(
id: bridge
url: null
as_token: as-secret
hs_token: hs-secret
sender_localpart: bridgebot
namespaces:
  users: [{exclusive: true, regex: "@bridge_.*"}]
)");
  std::vector<std::string> args = {"--listen",     "127.0.0.1:0", "--server-name", "sim.example",
                                   "--admin-token-file", token_file, "--state-file", state_file,
                                   "--appservice", registration};
  std::string room_id;
  {
    SimProcess process(args);
    REQUIRE(process.url().rfind("http://127.0.0.1:", 0) == 0);
    std::string token = read_file(token_file);
    REQUIRE(!token.empty());
    CHECK(call(process.port(), "GET", "/_matrix/client/v3/account/whoami", token)["user_id"] == "@admin:sim.example");
    CHECK(call(process.port(), "GET", "/_matrix/client/v3/account/whoami", "as-secret")["user_id"] ==
          "@bridgebot:sim.example");
    room_id = call(process.port(), "POST", "/_matrix/client/v3/createRoom", token, {{"room_alias_name", "ops"}})["room_id"];
    CHECK(process.terminate() == 0);
  }
  REQUIRE(std::filesystem::exists(state_file));
  {
    SimProcess process(args);
    std::string token = read_file(token_file);
    CHECK(call(process.port(), "GET", "/_matrix/client/v3/account/whoami", token)["user_id"] == "@admin:sim.example");
    CHECK(call(process.port(), "GET", "/_matrix/client/v3/directory/room/" + enc("#ops:sim.example"), token)["room_id"] ==
          room_id);
    CHECK(process.terminate() == 0);
  }
}

TEST_CASE("mxsim: --help documents the options", "[mxsim]") {
  testing_support::ProcessResult result = testing_support::run_process({MXSIM_BINARY, "--help"});
  CHECK(result.exit_code == 0);
  for (const char* option : {"--listen", "--server-name", "--admin-token-file", "--appservice", "--state-file"}) {
    CHECK(result.out.find(option) != std::string::npos);
  }
  testing_support::ProcessResult bad = testing_support::run_process({MXSIM_BINARY, "--bogus"});
  CHECK(bad.exit_code == 2);
}

}  // namespace persistence_test

// `mxctl run` against the simulator: the long-running controller repairs
// drift made by hand through the client API, applies manifest edits, keeps
// the last good desired state when a manifest breaks, reloads on SIGHUP and
// stops cleanly on SIGTERM. Every wait is on a condition, with a generous
// bound; none is an assertion by itself.

#include <signal.h>

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>
#include <utility>

#include "adapters/state_store.h"
#include "tests/e2e/fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/client_view.h"
#include "tests/support/eventually.h"
#include "tests/support/http_json.h"

namespace run_loop_test {

using testing_support::eventually;

namespace {

using namespace std::chrono_literals;

// `mxctl run` on the fixture's manifests, its log in the fixture's directory.
class RunningController {
 public:
  RunningController(e2e::Fixture& fx, std::vector<std::string> args = {}, std::map<std::string, std::string> env = {})
      : m_fx(fx), m_child(argv(fx, std::move(args)), merged(fx, std::move(env)), fx.scratch("run.out"),
                          fx.scratch("run.err")) {}

  std::string log() const { return m_child.err(); }
  testing_support::ChildProcess& child() { return m_child; }

  // Waits for the log to say `text` (`count` times in all).
  bool logged(const std::string& text, std::size_t count = 1, std::chrono::milliseconds limit = 30s) {
    return eventually(
        [&] {
          const std::string log = m_child.err();
          std::size_t found = 0;
          for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
            ++found;
          }
          return found >= count;
        },
        limit);
  }

 private:
  static std::vector<std::string> argv(const e2e::Fixture& fx, std::vector<std::string> args) {
    std::vector<std::string> out = {MXCTL_BINARY, "run", fx.manifests(), "--listen", "127.0.0.1:0"};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }
  static std::map<std::string, std::string> merged(const e2e::Fixture& fx, std::map<std::string, std::string> env) {
    std::map<std::string, std::string> out = fx.env();
    for (auto& [name, value] : env) {
      out[name] = value;
    }
    return out;
  }

  e2e::Fixture& m_fx;
  testing_support::ChildProcess m_child;
};

std::string room_id_of(e2e::Fixture& fx, const std::string& alias) {
  mxsim::ApiResponse resolved = fx.as_bot("GET", "/_matrix/client/v3/directory/room/" + testing_support::url_encode(alias), nullptr);
  REQUIRE(resolved.status == 200);
  return resolved.body["room_id"];
}

nlohmann::json state_of(e2e::Fixture& fx, const std::string& room_id, const std::string& type,
                        const std::string& state_key = "") {
  mxsim::ApiResponse got =
      fx.as_bot("GET", "/_matrix/client/v3/rooms/" + testing_support::url_encode(room_id) + "/state/" + type + "/" + state_key, nullptr);
  return got.status == 200 ? got.body : nlohmann::json();
}

void put_state(e2e::Fixture& fx, const std::string& room_id, const std::string& type, const std::string& state_key,
               const nlohmann::json& content) {
  REQUIRE(fx.as_bot("PUT", "/_matrix/client/v3/rooms/" + testing_support::url_encode(room_id) + "/state/" + type + "/" + state_key,
                    content)
              .status == 200);
}

const std::string k_space_alias = "#mxctl.community.riverside:mxsim.test";

// The example app database (schema and sample rows) at `path`, made with
// the sqlite3 shell as an operator would.
void make_sample_database(const std::string& path) {
  REQUIRE(std::system(("sqlite3 " + path + " < " + std::string(MXCTL_SOURCE_DIR) + "/manifests/app-schema.sql && " +
                       "sqlite3 " + path + " < " + std::string(MXCTL_SOURCE_DIR) + "/manifests/app-sample.sql")
                          .c_str()) == 0);
}

// `mxctl run` on policies.yaml and the sample app database at `database`,
// polled every `poll_seconds`; returns once its start pass is done.
std::unique_ptr<testing_support::ChildProcess> start_run_from_database(e2e::Fixture& fx, const std::string& database,
                                                                       int poll_seconds) {
  make_sample_database(database);
  const std::string config = fx.scratch("config.yaml");
  std::ofstream(config) << "sourceIntervalSeconds: " << poll_seconds << "\n";
  std::map<std::string, std::string> env = fx.env();
  env["MXCTL_CONFIG"] = config;
  auto child = std::make_unique<testing_support::ChildProcess>(
      std::vector<std::string>{MXCTL_BINARY, "run", fx.manifests() + "/policies.yaml", "--from-db",
                               "sqlite://" + database, "--listen", "127.0.0.1:0"},
      env, fx.scratch("run.out"), fx.scratch("run.err"));
  const bool started = eventually([&] { return child->err().find("pass done (start)") != std::string::npos; });
  INFO(child->err());
  REQUIRE(started);
  return child;
}

}  // namespace

TEST_CASE("mxctl run repairs drift made by hand through the client API", "[run]") {
  e2e::Fixture fx;
  RunningController run(fx);
  REQUIRE(run.logged("pass done (start)"));
  const std::string space = room_id_of(fx, k_space_alias);
  INFO(run.log());

  SECTION("a room name and a topic") {
    const std::string name = state_of(fx, space, "m.room.name").value("name", "");
    REQUIRE(name == "Riverside Commons");
    put_state(fx, space, "m.room.name", "", {{"name", "vandalised"}});
    put_state(fx, space, "m.room.topic", "", {{"topic", "vandalised"}});
    CHECK(eventually([&] {
      return state_of(fx, space, "m.room.name").value("name", "") == "Riverside Commons" &&
             state_of(fx, space, "m.room.topic").value("topic", "") ==
                 "Sharing tools, food and time along the river";
    }));
  }

  SECTION("a power level") {
    nlohmann::json levels = state_of(fx, space, "m.room.power_levels");
    REQUIRE(levels["users"].contains("@grace:mxsim.test"));
    const int want = levels["users"]["@grace:mxsim.test"];
    levels["users"]["@grace:mxsim.test"] = 99;
    put_state(fx, space, "m.room.power_levels", "", levels);
    CHECK(eventually([&] {
      return state_of(fx, space, "m.room.power_levels")["users"].value("@grace:mxsim.test", -1) == want;
    }));
  }

  SECTION("a kick") {
    REQUIRE(fx.as_bot("POST", "/_matrix/client/v3/rooms/" + testing_support::url_encode(space) + "/kick",
                      {{"user_id", "@grace:mxsim.test"}, {"reason", "by hand"}})
                .status == 200);
    CHECK(eventually([&] {
      return state_of(fx, space, "m.room.member", "@grace:mxsim.test").value("membership", "") == "invite";
    }));
  }

  SECTION("a removed space link") {
    mxsim::ApiResponse state = fx.as_bot("GET", "/_matrix/client/v3/rooms/" + testing_support::url_encode(space) + "/state", nullptr);
    REQUIRE(state.status == 200);
    std::string child;
    for (const auto& event : state.body) {
      if (event.value("type", "") == "m.space.child" && !event["content"].empty()) {
        child = event.value("state_key", "");
        break;
      }
    }
    REQUIRE_FALSE(child.empty());
    put_state(fx, space, "m.space.child", child, nlohmann::json::object());
    CHECK(eventually([&] { return !state_of(fx, space, "m.space.child", child).empty(); }));
  }
  run.child().signal(SIGTERM);
  CHECK(run.child().wait_for(30s) == std::optional<int>(0));
}

TEST_CASE("mxctl run applies manifest edits and keeps the last good state when one breaks", "[run]") {
  e2e::Fixture fx;
  RunningController run(fx);
  REQUIRE(run.logged("pass done (start)"));
  const std::string space = room_id_of(fx, k_space_alias);

  fx.edit("communities.yaml", "name: Riverside Commons", "name: Riverside Commons Renamed");
  CHECK(eventually([&] { return state_of(fx, space, "m.room.name").value("name", "") == "Riverside Commons Renamed"; }));

  // A manifest that no longer parses is reported; nothing is archived.
  fx.write_manifest("communities.yaml", "apiVersion: mxctl/v1\nkind: Community\nmetadata: [unclosed\n");
  REQUIRE(run.logged("the desired state does not load; keeping the last good one"));
  CHECK(run.log().find("communities.yaml:") != std::string::npos);
  // Drift is still repaired against the last good state.
  put_state(fx, space, "m.room.name", "", {{"name", "vandalised"}});
  CHECK(eventually([&] { return state_of(fx, space, "m.room.name").value("name", "") == "Riverside Commons Renamed"; }));
  CHECK(e2e::audit(fx.homeserver()).marked.count("community/riverside") == 1);
  run.child().signal(SIGTERM);
  CHECK(run.child().wait_for(30s) == std::optional<int>(0));
  INFO(run.log());
  CHECK(run.log().find("archive") == std::string::npos);
}

TEST_CASE("mxctl run stops on SIGTERM with exit 0, the lock released and the run recorded", "[run]") {
  e2e::Fixture fx;
  RunningController run(fx);
  REQUIRE(run.logged("pass done (start)"));
  // The lock is held for the life of the process: a cron pass is refused.
  auto refused = fx.mxctl({"reconcile", fx.manifests()});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("lock") != std::string::npos);

  run.child().signal(SIGTERM);
  REQUIRE(run.child().wait_for(30s) == std::optional<int>(0));
  INFO(run.log());
  CHECK(run.log().find("stopped") != std::string::npos);
  auto after = fx.mxctl({"reconcile", fx.manifests()});
  INFO(after.err);
  CHECK(after.exit_code == 0);
  auto store = adapters::open_sqlite_store(fx.state());
  REQUIRE(store);
  auto runs = (*store)->runs(10);
  REQUIRE(runs);
  CHECK(std::any_of(runs->begin(), runs->end(),
                    [](const adapters::RunRecord& record) { return record.command == "run"; }));
}

TEST_CASE("mxctl run reloads the desired state on SIGHUP", "[run]") {
  e2e::Fixture fx;
  // Manifests are watched; the app database is only polled, here rarely,
  // so that only SIGHUP can bring its change in.
  const std::string database = fx.scratch("app.db");
  auto running = start_run_from_database(fx, database, 3600);
  testing_support::ChildProcess& child = *running;
  REQUIRE(std::system(("sqlite3 " + database + " \"UPDATE communities SET name = 'Reloaded' WHERE slug = 'riverside'\"")
                          .c_str()) == 0);
  // Nothing announces a database change: only the reload reads it.
  const std::string space = room_id_of(fx, k_space_alias);
  auto probes = [&] {
    int count = 0;
    for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries()) {
      count += entry.path == "/_matrix/client/versions";
    }
    return count;
  };
  const int probes_before = probes();
  child.signal(SIGHUP);
  CHECK(eventually([&] { return child.err().find("reloaded the config") != std::string::npos; }));
  CHECK(eventually([&] { return state_of(fx, space, "m.room.name").value("name", "") == "Reloaded"; }));
  // The pass logs that it is done after its last write shows.
  CHECK(eventually([&] { return child.err().find("pass done (desired_changed)") != std::string::npos; }));
  // The reload also read again what the homeserver offers.
  CHECK(probes() == probes_before + 1);
  child.signal(SIGTERM);
  CHECK(child.wait_for(30s) == std::optional<int>(0));
}

TEST_CASE("mxctl run's poll reads a change another process wrote to the app database", "[run][fingerprint]") {
  e2e::Fixture fx;
  // Polled every second; the poll loads only when the database's
  // fingerprint moved, which a write by the sqlite3 shell must do.
  const std::string database = fx.scratch("app.db");
  auto running = start_run_from_database(fx, database, 1);
  testing_support::ChildProcess& child = *running;
  const std::string space = room_id_of(fx, k_space_alias);
  REQUIRE(std::system(("sqlite3 " + database + " \"UPDATE communities SET name = 'Polled' WHERE slug = 'riverside'\"")
                          .c_str()) == 0);
  CHECK(eventually([&] { return state_of(fx, space, "m.room.name").value("name", "") == "Polled"; }));
  // Logged as the pass ends, which may be after its write shows.
  CHECK(eventually([&] { return child.err().find("pass done (desired_changed)") != std::string::npos; }));
  child.signal(SIGTERM);
  CHECK(child.wait_for(30s) == std::optional<int>(0));
}

namespace {

// The status listener's base URL, from the line mxctl run logs at start.
std::string status_url(const std::string& log) {
  std::smatch match;
  REQUIRE(std::regex_search(log, match, std::regex(R"(on (http://127\.0\.0\.1:\d+))")));
  return match[1];
}

// GET `path`: status and body.
std::pair<int, std::string> http_get(const std::string& base, const std::string& path) {
  httplib::Client client(base);
  client.set_read_timeout(10, 0);
  auto answer = client.Get(path.c_str());
  REQUIRE(answer);
  return {answer->status, answer->body};
}

// The families the official Python client's parser reads in `exposition`
// (tests/telemetry/parse_exposition.py).
nlohmann::json parsed_metrics(e2e::Fixture& fx, const std::string& exposition) {
  const std::string file = fx.scratch("metrics.txt");
  std::ofstream(file, std::ios::trunc) << exposition;
  auto result = testing_support::run_process(
      {testing_support::reference_python(), std::string(MXCTL_SOURCE_DIR) + "/tests/telemetry/parse_exposition.py", file});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return nlohmann::json::parse(result.out);
}

// The value of the sample `name` with exactly `labels`; -1 when absent.
double sample_value(const nlohmann::json& families, const std::string& name, const nlohmann::json& labels) {
  for (const auto& family : families) {
    for (const auto& sample : family["samples"]) {
      if (sample["name"] == name && sample["labels"] == labels && sample["value"].is_number()) {
        return sample["value"].get<double>();
      }
    }
  }
  return -1;
}

}  // namespace

TEST_CASE("mxctl run serves /metrics, /healthz and /readyz", "[run][metrics]") {
  e2e::Fixture fx;
  RunningController run(fx);
  REQUIRE(run.logged("pass done (start)"));
  const std::string base = status_url(run.log());
  CHECK(http_get(base, "/healthz") == std::pair<int, std::string>{200, "ok\n"});
  CHECK(eventually([&] { return http_get(base, "/readyz").first == 200; }));

  nlohmann::json first = parsed_metrics(fx, http_get(base, "/metrics").second);
  CHECK(sample_value(first, "mxctl_passes_total", {{"reason", "start"}, {"result", "succeeded"}}) == 1);
  CHECK(sample_value(first, "mxctl_managed_objects", {{"kind", "room"}}) > 0);
  CHECK(sample_value(first, "mxctl_operations_total", {{"kind", "create_room"}, {"result", "succeeded"}}) > 0);
  CHECK(sample_value(first, "mxctl_homeserver_requests_total", {{"method", "POST"}, {"status_class", "2xx"}}) > 0);
  CHECK(sample_value(first, "mxctl_pass_duration_seconds_count", nlohmann::json::object()) >= 1);
  CHECK(sample_value(first, "mxctl_last_successful_pass_timestamp_seconds", nlohmann::json::object()) > 1.7e9);
  const double set_state_before =
      std::max(0.0, sample_value(first, "mxctl_operations_total", {{"kind", "set_state"}, {"result", "succeeded"}}));

  // A repair shows as drift found and an operation carried out.
  const std::string space = room_id_of(fx, k_space_alias);
  put_state(fx, space, "m.room.topic", "", {{"topic", "vandalised"}});
  CHECK(eventually([&] {
    nlohmann::json now = parsed_metrics(fx, http_get(base, "/metrics").second);
    return sample_value(now, "mxctl_operations_total", {{"kind", "set_state"}, {"result", "succeeded"}}) >
               set_state_before &&
           sample_value(now, "mxctl_drift_total", {{"object", "room"}, {"action", "update"}}) >= 1 &&
           sample_value(now, "mxctl_passes_total", {{"reason", "homeserver_changed"}, {"result", "succeeded"}}) >= 1;
  }));
  run.child().signal(SIGTERM);
  CHECK(run.child().wait_for(30s) == std::optional<int>(0));
}

TEST_CASE("mxctl run --log-format json writes one JSON object per line", "[run]") {
  e2e::Fixture fx;
  RunningController run(fx, {"--log-format", "json"});
  REQUIRE(run.logged("pass done (start)"));
  run.child().signal(SIGTERM);
  REQUIRE(run.child().wait_for(30s) == std::optional<int>(0));
  std::istringstream lines(run.log());
  bool saw_pass = false;
  bool saw_operation = false;
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    nlohmann::json entry = nlohmann::json::parse(line);  // throws, failing the test, on anything else
    CHECK(entry["time"].is_string());
    CHECK(entry["level"].is_string());
    CHECK(entry["message"].is_string());
    if (entry.value("operation", "") == "pass" && entry.contains("duration_ms")) {
      saw_pass = true;
    }
    if (entry.value("operation", "") == "create_room" && entry.value("key", "").rfind("room.", 0) == 0 &&
        entry.contains("room_id")) {
      saw_operation = true;
    }
  }
  CHECK(saw_pass);
  CHECK(saw_operation);
}

TEST_CASE("mxctl run holds back what the mass-change guard stops and repairs the rest", "[run][guard]") {
  e2e::Fixture fx;
  RunningController run(fx);
  REQUIRE(run.logged("pass done (start)"));
  const std::size_t marked = e2e::audit(fx.homeserver()).marked.size();

  // Every room leaves the desired state at once (a bad deploy, say), in the
  // same edit as a change the loop should still make.
  for (const char* file : {"communities.yaml", "councils.yaml", "coordination.yaml"}) {
    std::filesystem::remove(fx.manifests() + "/" + file);
  }
  fx.edit("users.yaml", "displayName: Alice Moreau", "displayName: Alice Renamed");
  CHECK(eventually([&] {
    mxsim::ApiResponse name = fx.as_bot("GET", "/_matrix/client/v3/profile/@alice:mxsim.test/displayname", nullptr);
    return name.status == 200 && name.body.value("displayname", "") == "Alice Renamed";
  }));
  REQUIRE(run.logged("mass-change guard: "));
  CHECK(run.log().find("held back") != std::string::npos);
  // Nothing was archived: every room still carries its marker and its name.
  e2e::ServerAudit after = e2e::audit(fx.homeserver());
  CHECK(after.marked.size() == marked);
  const std::string space = room_id_of(fx, k_space_alias);
  CHECK(state_of(fx, space, "m.room.name").value("name", "") == "Riverside Commons");
  const std::string base = status_url(run.log());
  nlohmann::json metrics = parsed_metrics(fx, http_get(base, "/metrics").second);
  CHECK(sample_value(metrics, "mxctl_guard_blocks_total", nlohmann::json::object()) >= 1);
  run.child().signal(SIGTERM);
  CHECK(run.child().wait_for(30s) == std::optional<int>(0));
}

}  // namespace run_loop_test

// A pass against a homeserver whose answers do not have the shape the spec
// gives, through a proxy in front of mxsim that breaks them: an empty user
// list stops the pass before any write (it once planned every account
// again), and every answer a pass reads, broken in turn, is an error naming
// its request or is read leniently, never a JSON library exception.

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "adapters/appdb/desired_source.h"
#include "adapters/homeserver/http_homeserver.h"
#include "model/compile.h"
#include "tests/e2e/answer_proxy.h"
#include "tests/e2e/fixture.h"

namespace answers_test {

namespace {

const std::string k_users_list = "/_synapse/admin/v2/users?deactivated=true&locked=true&limit=5000&from=0";

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// mxctl run against `url` instead of the simulator itself.
testing_support::ProcessResult mxctl_via(const e2e::Fixture& fx, const std::string& url,
                                         std::vector<std::string> args) {
  std::map<std::string, std::string> env = fx.env();
  env["MATRIX_HOMESERVER_URL"] = url;
  args.insert(args.begin(), MXCTL_BINARY);
  return testing_support::run_process(args, env);
}

model::Settings settings_via(const std::string& url) {
  model::Settings settings;
  settings.homeserver_url = url;
  settings.server_name = e2e::k_server_name;
  settings.bot_user_id = e2e::k_bot;
  return settings;
}

// Where to break an answer: JSON pointers into it, spread over its depth
// (the first element of each array; of an object keyed by ids, the first
// id), at most `count`.
std::vector<nlohmann::json::json_pointer> break_points(const nlohmann::json& body, std::size_t count) {
  std::vector<nlohmann::json::json_pointer> all;
  std::function<void(const nlohmann::json&, const nlohmann::json::json_pointer&, int)> walk =
      [&](const nlohmann::json& value, const nlohmann::json::json_pointer& at, int depth) {
        if (depth > 7) {
          return;
        }
        if (value.is_array() && !value.empty()) {
          all.push_back(at / 0);
          walk(value[0], at / 0, depth + 1);
        } else if (value.is_object()) {
          for (const auto& [key, member] : value.items()) {
            all.push_back(at / key);
            walk(member, at / key, depth + 1);
            if (!key.empty() && std::string("!@$#").find(key[0]) != std::string::npos) {
              break;  // one id stands for the others
            }
          }
        }
      };
  walk(body, nlohmann::json::json_pointer(), 0);
  if (all.size() <= count) {
    return all;
  }
  std::vector<nlohmann::json::json_pointer> spread;
  for (std::size_t i = 0; i < count; ++i) {
    spread.push_back(all[i * all.size() / count]);
  }
  return spread;
}

// A value of another JSON type than `value`.
nlohmann::json other_type(const nlohmann::json& value) {
  if (value.is_string()) {
    return 7;
  }
  if (value.is_number() || value.is_boolean()) {
    return "7";
  }
  if (value.is_object()) {
    return nlohmann::json::array({1});
  }
  if (value.is_array()) {
    return nlohmann::json::object();
  }
  return "x";
}

// One way of breaking one answer.
struct Breakage {
  std::string path;
  std::string what;
  std::string body;        ///< the answer sent instead (status 200)
  bool must_fail = false;  ///< no reading of it may pass for data
};

}  // namespace

TEST_CASE("e2e: an empty user list stops the pass naming the request, no account is planned or re-created",
          "[e2e][answers]") {
  e2e::Fixture fx;
  auto first = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  e2e::AnswerProxy proxy(fx.server().base_url());
  std::string body;
  std::string cause;
  SECTION("an empty 200") {
    body = "";
    cause = "the body is empty, expected an object";
  }
  SECTION("a user name of the wrong JSON type") {
    body = R"({"users": [{"name": 5}], "total": 1})";
    cause = "users[0].name is an integer, expected a string";
  }
  proxy.rewrite([&](const std::string& method, const std::string& target,
                    const e2e::ProxiedAnswer&) -> std::optional<e2e::ProxiedAnswer> {
    if (method == "GET" && target == k_users_list) {
      return e2e::ProxiedAnswer{200, body};
    }
    return std::nullopt;
  });
  const std::string expected = "Error: cannot list accounts: GET " + k_users_list + ": malformed answer: " + cause;

  auto plan = mxctl_via(fx, proxy.url(), {"plan", fx.manifests()});
  INFO(plan.out << plan.err);
  CHECK(plan.exit_code == 1);
  CHECK(plan.err.find(expected) != std::string::npos);
  CHECK(plan.err.find("json.exception") == std::string::npos);
  CHECK(plan.out.find("will be created") == std::string::npos);

  fx.homeserver().journal().reset();
  auto apply = mxctl_via(fx, proxy.url(), {"apply", fx.manifests(), "--yes"});
  INFO(apply.out << apply.err);
  CHECK(apply.exit_code == 1);
  CHECK(apply.err.find(expected) != std::string::npos);
  CHECK(fx.homeserver().journal().stats().writes == 0);
}

TEST_CASE("e2e: every answer an observation reads, broken in turn, is an error naming it or read leniently",
          "[e2e][answers]") {
  e2e::Fixture fx;
  auto first = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);

  const model::Settings settings = settings_via("");
  adapters::LoadedDesired loaded = adapters::load_desired({fx.manifests()}, "", {}, settings);
  REQUIRE(loaded.diagnostics.empty());
  const model::MatrixState desired = model::compile(loaded.topology, settings);
  e2e::AnswerProxy proxy(fx.server().base_url());
  adapters::ClientOptions options;
  options.read_attempts = 1;
  // One pass's observation through the proxy: probe, then observe, with a
  // room re-read in full as after an apply that wrote to it.
  adapters::ObserveHints hints;
  auto observe = [&]() -> model::Result<adapters::Observation> {
    adapters::HttpHomeserver homeserver(settings_via(proxy.url()), fx.token(), options);
    if (auto caps = homeserver.probe(); !caps) {
      return tl::unexpected(caps.error());
    }
    return homeserver.observe(desired, hints);
  };

  // The answers as the homeserver gives them, by path.
  std::map<std::string, nlohmann::json> answers;
  std::mutex answers_mutex;
  proxy.rewrite([&](const std::string& method, const std::string& target,
                    const e2e::ProxiedAnswer& answer) -> std::optional<e2e::ProxiedAnswer> {
    if (method == "GET" && answer.status == 200) {
      std::lock_guard<std::mutex> lock(answers_mutex);
      answers.emplace(path_of(target), nlohmann::json::parse(answer.body, nullptr, false));
    }
    return std::nullopt;
  });
  auto clean = observe();
  REQUIRE(clean);
  REQUIRE_FALSE(clean->room_ids.empty());
  hints.rooms_written.insert(clean->room_ids.begin()->second);
  REQUIRE(observe());
  // The endpoints of an observation (their number grows with the rooms re-read only).
  REQUIRE(answers.count("/_matrix/client/v3/sync"));
  REQUIRE(answers.count("/_synapse/admin/v2/users"));
  REQUIRE(answers.size() >= 8);

  // One path per endpoint: the others differ only in the room or user.
  std::set<std::string> endpoints;
  std::vector<Breakage> breakages;
  for (const auto& [path, body] : answers) {
    if (!endpoints.insert(std::regex_replace(path, std::regex("/(rooms|users)/[^/]+"), "/$1/{id}")).second) {
      continue;
    }
    // The rate-limit override only informs a note: a broken one leaves the limits unknown.
    const bool informative = path.find("/override_ratelimit") != std::string::npos;
    breakages.push_back({path, "an empty 200", "", !informative});
    breakages.push_back({path, "a string", "\"text\"", !informative});
    if (body.is_object()) {
      breakages.push_back({path, "an array", "[]", !informative});
    }
    for (const auto& at : break_points(body, 8)) {
      nlohmann::json without = body;
      if (without.at(at.parent_pointer()).is_object()) {
        without.at(at.parent_pointer()).erase(at.back());
        breakages.push_back({path, at.to_string() + " removed", without.dump(), false});
      }
      nlohmann::json retyped = body;
      retyped.at(at) = other_type(body.at(at));
      breakages.push_back({path, at.to_string() + " of another type", retyped.dump(), false});
    }
  }
  const Breakage* current = nullptr;
  proxy.rewrite([&](const std::string& method, const std::string& target,
                    const e2e::ProxiedAnswer& answer) -> std::optional<e2e::ProxiedAnswer> {
    if (method == "GET" && answer.status == 200 && path_of(target) == current->path) {
      return e2e::ProxiedAnswer{200, current->body};
    }
    return std::nullopt;
  });
  std::size_t failed = 0;
  for (const Breakage& breakage : breakages) {
    current = &breakage;
    INFO("GET " << breakage.path << " answered with " << breakage.what);
    model::Result<adapters::Observation> result = tl::unexpected(model::Error{});
    try {
      result = observe();
    } catch (const std::exception& e) {
      FAIL("exception: " << e.what());
    }
    if (breakage.must_fail) {
      CHECK_FALSE(result);
    }
    if (!result) {
      ++failed;
      const std::string& message = result.error().message;
      INFO(message);
      CHECK(message.find("json.exception") == std::string::npos);
      if (breakage.must_fail || message.find("malformed answer") != std::string::npos) {
        CHECK(message.find("GET " + breakage.path) != std::string::npos);
      }
    }
  }
  // Whole answers broken are always caught; some fields are content, read leniently.
  CHECK(failed >= endpoints.size() * 2);
}

}  // namespace answers_test

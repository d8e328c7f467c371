// The long-running controller's log lines: text for people, one JSON object
// per line for journald and Loki.

#include "controller/loop/loop_log.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
#include <thread>
#include <vector>

namespace loop_log_test {

namespace {

// 2026-03-02T10:00:00.042Z
constexpr std::int64_t k_now = 1772445600042;

}  // namespace

TEST_CASE("loop log: JSON lines carry time, level, message and the fields given", "[loop_log]") {
  std::ostringstream out;
  controller::LoopLog log(out, controller::LogFormat::json, [] { return k_now; });
  log.info("invite @bob:x to community/riverside",
           {"room.community/riverside", "invite", "!abc:x", std::chrono::milliseconds(12)});
  log.error("pass failed: \"quoted\"\nand a second line");
  std::istringstream lines(out.str());
  std::string first;
  std::string second;
  std::getline(lines, first);
  std::getline(lines, second);
  std::string rest;
  CHECK_FALSE(std::getline(lines, rest));

  nlohmann::json one = nlohmann::json::parse(first);
  CHECK(one == nlohmann::json{{"time", "2026-03-02T10:00:00.042Z"},
                              {"level", "info"},
                              {"message", "invite @bob:x to community/riverside"},
                              {"key", "room.community/riverside"},
                              {"operation", "invite"},
                              {"room_id", "!abc:x"},
                              {"duration_ms", 12}});
  nlohmann::json two = nlohmann::json::parse(second);
  CHECK(two == nlohmann::json{{"time", "2026-03-02T10:00:00.042Z"},
                              {"level", "error"},
                              {"message", "pass failed: \"quoted\"\nand a second line"}});
}

TEST_CASE("loop log: invalid UTF-8 from a server still makes a JSON line", "[loop_log]") {
  std::ostringstream out;
  controller::LoopLog log(out, controller::LogFormat::json, [] { return k_now; });
  log.warning(std::string("bad \xff byte"));
  nlohmann::json line = nlohmann::json::parse(out.str());
  CHECK(line["level"] == "warning");
  CHECK(line["message"].get<std::string>().find("bad ") == 0);
}

TEST_CASE("loop log: text lines escape what came from outside and keep one event per line", "[loop_log]") {
  std::ostringstream out;
  controller::LoopLog log(out, controller::LogFormat::text, [] { return k_now; });
  log.info("name set to \"evil\nline\"", {"room.a", "set_state", "", std::nullopt});
  const std::string text = out.str();
  CHECK(text.rfind("2026-03-02T10:00:00.042Z info ", 0) == 0);
  CHECK(text.find("key=room.a operation=set_state") != std::string::npos);
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
}

TEST_CASE("loop log: lines written from many threads never interleave", "[loop_log]") {
  std::ostringstream out;
  controller::LoopLog log(out, controller::LogFormat::json, [] { return k_now; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 200; ++i) {
        log.info("thread " + std::to_string(t) + " line " + std::to_string(i));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  std::istringstream lines(out.str());
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    REQUIRE_NOTHROW(nlohmann::json::parse(line));
  }
  CHECK(count == 800);
}

}  // namespace loop_log_test

// The control loop in-process, on a scripted host and change feed: which
// passes it runs for which news, what it keeps when the sources break, how
// it backs off, and how it stops.

#include "controller/loop/control_loop.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace control_loop_test {

namespace {

using namespace std::chrono_literals;
using controller::PassReason;

// A feed whose waits end when the test pushes a notice, or when cancelled.
class ScriptedFeed final : public adapters::ChangeFeed {
 public:
  model::Result<adapters::ChangeNotice> wait(const std::string& position, std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(m_mutex);
    positions.push_back(position);
    m_changed.wait_for(lock, timeout, [&] { return m_cancelled || !m_notices.empty(); });
    if (m_cancelled) {
      return model::fail(model::Error::Kind::transient, "cancelled");
    }
    if (m_notices.empty()) {
      return adapters::ChangeNotice{position, {}};
    }
    adapters::ChangeNotice notice = m_notices.front();
    m_notices.pop_front();
    return notice;
  }
  void cancel() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_cancelled = true;
    m_changed.notify_all();
  }
  void push(std::set<std::string> rooms) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_notices.push_back({"later", std::move(rooms)});
    m_changed.notify_all();
  }
  std::vector<std::string> positions_seen() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return positions;
  }

 private:
  std::vector<std::string> positions;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::deque<adapters::ChangeNotice> m_notices;
  bool m_cancelled = false;
};

model::MatrixState desired_named(const std::string& name) {
  model::MatrixState state;
  model::Room room;
  room.key = "community/" + name;
  room.name = name;
  state.rooms[room.key] = room;
  return state;
}

// A host that records its passes and answers as the test scripts it.
class ScriptedHost final : public controller::LoopHost {
 public:
  struct Pass {
    PassReason reason;
    bool full;
    std::set<std::string> rooms;
    std::string desired_name;
  };

  model::Result<model::MatrixState> load_desired() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++loads;
    if (broken) {
      return model::fail(model::Error::Kind::invalid, "communities.yaml:3:11: bad");
    }
    return desired_named(source_name);
  }
  std::string source_fingerprint() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++fingerprints;
    m_changed.notify_all();
    return fingerprint;
  }
  model::Result<void> reload_settings() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++reloads;
    return {};
  }
  controller::PassOutcome run_pass(model::MatrixState desired, const controller::PassRequest& request) override {
    std::function<void(const controller::PassRequest&)> during;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      passes.push_back({request.reason, request.full_observation, request.rooms,
                        desired.rooms.empty() ? "" : desired.rooms.begin()->second.name});
      during = during_pass;
    }
    m_changed.notify_all();
    if (during) {
      during(request);
    }
    controller::PassOutcome outcome;
    outcome.mode = controller::Mode::reconcile;
    std::lock_guard<std::mutex> lock(m_mutex);
    if (fail_passes > 0) {
      --fail_passes;
      outcome.error = model::make_error(model::Error::Kind::transient, "homeserver down");
    } else {
      outcome.planned.emplace();
      outcome.applied.emplace();
      outcome.applied->lock_lost = lose_lock;
    }
    return outcome;
  }
  std::string sync_position() override { return "s" + std::to_string(passes_seen()); }
  void cancel_requests() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++cancels;
    m_changed.notify_all();
  }
  void desired_rejected(const model::Error& error) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    rejected.push_back(error.message);
    m_changed.notify_all();
  }
  void feed_failed(const model::Error&) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    ++feed_failures;
  }

  std::size_t passes_seen() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return passes.size();
  }
  // Waits until `count` passes have started.
  bool await_passes(std::size_t count, std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock(m_mutex);
    return m_changed.wait_for(lock, limit, [&] { return passes.size() >= count; });
  }
  bool await(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> lock(m_mutex);
    return m_changed.wait_for(lock, limit, condition);
  }
  Pass pass(std::size_t index) {
    std::lock_guard<std::mutex> lock(m_mutex);
    return passes.at(index);
  }

  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::vector<Pass> passes;
  std::vector<std::string> rejected;
  std::string source_name = "first";
  bool broken = false;
  int fail_passes = 0;
  bool lose_lock = false;
  int loads = 0;
  int reloads = 0;
  /// What source_fingerprint() answers, and how often it was asked.
  std::string fingerprint;
  int fingerprints = 0;
  int cancels = 0;
  int feed_failures = 0;
  std::function<void(const controller::PassRequest&)> during_pass;
};

controller::LoopOptions quick() {
  controller::LoopOptions options;
  options.resync_interval = 1h;
  options.source_interval = 0ms;
  options.debounce = 20ms;
  options.shutdown_grace = 10s;
  options.retry_min = 50ms;
  options.retry_max = 200ms;
  options.feed.wait = 5s;
  options.feed.backoff_min = 10ms;
  options.feed.quiet_floor = 0ms;
  return options;
}

// Runs the loop on a thread of its own; stops and joins it at the end.
struct LoopThread {
  explicit LoopThread(controller::ControlLoop& running) : loop(running), thread([this] { result = loop.run(); }) {}
  ~LoopThread() { stop(); }
  int stop() {
    if (thread.joinable()) {
      loop.request_stop();
      thread.join();
    }
    return result;
  }
  controller::ControlLoop& loop;
  int result = -1;
  std::thread thread;
};

}  // namespace

TEST_CASE("control loop: a full pass at start, then a pass for each change the feed shows", "[control_loop]") {
  ScriptedHost host;
  ScriptedFeed feed;
  controller::ControlLoop loop(host, &feed, quick());
  LoopThread running(loop);
  REQUIRE(host.await_passes(1));
  CHECK(host.pass(0).reason == PassReason::start);
  CHECK(host.pass(0).full);
  CHECK(host.pass(0).desired_name == "first");

  feed.push({"!a:x", "!b:x"});
  REQUIRE(host.await_passes(2));
  CHECK(host.pass(1).reason == PassReason::homeserver_changed);
  CHECK_FALSE(host.pass(1).full);
  CHECK(host.pass(1).rooms == std::set<std::string>{"!a:x", "!b:x"});
  // Each wait starts from the position the last pass left in the store.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (feed.positions_seen().size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(feed.positions_seen().size() >= 2);
  CHECK(feed.positions_seen().at(0) == "s1");
  CHECK(feed.positions_seen().at(1) == "s2");
  CHECK(running.stop() == 0);
  // The wait that stop() cancelled is not a failure of the feed.
  CHECK(host.feed_failures == 0);
}

TEST_CASE("control loop: a source change is read after the debounce, a broken one keeps the last good state",
          "[control_loop]") {
  ScriptedHost host;
  controller::ControlLoop loop(host, nullptr, quick());
  LoopThread running(loop);
  REQUIRE(host.await_passes(1));

  {
    std::lock_guard<std::mutex> lock(host.m_mutex);
    host.source_name = "second";
  }
  // A burst of news is one read and one pass.
  for (int i = 0; i < 5; ++i) {
    loop.events().post_source_changed();
  }
  REQUIRE(host.await_passes(2));
  CHECK(host.pass(1).reason == PassReason::desired_changed);
  CHECK(host.pass(1).desired_name == "second");

  {
    std::lock_guard<std::mutex> lock(host.m_mutex);
    host.broken = true;
  }
  loop.events().post_source_changed();
  REQUIRE(host.await([&] { return !host.rejected.empty(); }));
  CHECK(host.rejected.front().find("communities.yaml:3:11") != std::string::npos);

  // The next pass (a retry, say) still works from the last good state.
  loop.events().post_homeserver_changed({"!a:x"});
  REQUIRE(host.await_passes(3));
  CHECK(host.pass(2).desired_name == "second");
  CHECK(running.stop() == 0);
  CHECK(host.passes_seen() == 3);
}

TEST_CASE("control loop: an unchanged source runs no pass, SIGHUP reloads the config and the sources",
          "[control_loop]") {
  ScriptedHost host;
  controller::ControlLoop loop(host, nullptr, quick());
  LoopThread running(loop);
  REQUIRE(host.await_passes(1));
  loop.events().post_source_changed();
  REQUIRE(host.await([&] { return host.loads >= 2; }));
  loop.events().post_reload();
  REQUIRE(host.await([&] { return host.reloads == 1 && host.loads >= 3; }));
  CHECK(running.stop() == 0);
  CHECK(host.passes_seen() == 1);
}

TEST_CASE("control loop: a failed pass is tried again, backing off", "[control_loop]") {
  ScriptedHost host;
  host.fail_passes = 2;
  controller::ControlLoop loop(host, nullptr, quick());
  LoopThread running(loop);
  REQUIRE(host.await_passes(3));
  CHECK(host.pass(1).reason == PassReason::retry);
  CHECK(host.pass(2).reason == PassReason::retry);
  // The third succeeded: no more retries.
  std::this_thread::sleep_for(300ms);
  CHECK(host.passes_seen() == 3);
  CHECK(running.stop() == 0);
}

TEST_CASE("control loop: a stop lets the pass in flight finish, and cuts it off after the grace period",
          "[control_loop]") {
  ScriptedHost host;
  controller::LoopOptions options = quick();
  std::atomic<bool> saw_stopping{false};

  SECTION("finishing within the grace period") {
    host.during_pass = [&](const controller::PassRequest& request) {
      // The pass sees the flag the executor checks before each operation.
      while (!request.stopping->load()) {
        std::this_thread::sleep_for(1ms);
      }
      saw_stopping = true;
    };
    controller::ControlLoop loop(host, nullptr, options);
    LoopThread running(loop);
    REQUIRE(host.await_passes(1));
    CHECK(running.stop() == 0);
    CHECK(saw_stopping);
    CHECK(host.cancels == 0);
  }

  SECTION("cut off when it outlasts the grace period") {
    options.shutdown_grace = 50ms;
    host.during_pass = [&](const controller::PassRequest&) {
      host.await([&] { return host.cancels > 0; }, 10s);
    };
    controller::ControlLoop loop(host, nullptr, options);
    LoopThread running(loop);
    REQUIRE(host.await_passes(1));
    CHECK(running.stop() == 0);
    CHECK(host.cancels == 1);
  }
}

TEST_CASE("control loop: a lost pass lock ends the loop with an error", "[control_loop]") {
  ScriptedHost host;
  host.lose_lock = true;
  controller::ControlLoop loop(host, nullptr, quick());
  CHECK(loop.run() == 1);
  CHECK(host.passes_seen() == 1);
}

TEST_CASE("control loop: a desired state that does not load at start ends it with an error", "[control_loop]") {
  ScriptedHost host;
  host.broken = true;
  controller::ControlLoop loop(host, nullptr, quick());
  CHECK(loop.run() == 1);
  CHECK(host.passes_seen() == 0);
  CHECK(host.rejected.size() == 1);
}

namespace {

// Sets the host's source and fingerprint as a writer to the database would.
void write_source(ScriptedHost& host, const std::string& name, const std::string& fingerprint) {
  std::lock_guard<std::mutex> lock(host.m_mutex);
  host.source_name = name;
  host.fingerprint = fingerprint;
}

// Waits for `polls` more looks at the fingerprint than now.
bool await_polls(ScriptedHost& host, int polls) {
  int target = 0;
  {
    std::lock_guard<std::mutex> lock(host.m_mutex);
    target = host.fingerprints + polls;
  }
  return host.await([&] { return host.fingerprints >= target; });
}

}  // namespace

TEST_CASE("control loop: a poll skips the load while the sources' fingerprint is unchanged, and loads when it changes",
          "[control_loop][fingerprint]") {
  ScriptedHost host;
  host.fingerprint = "v1";
  controller::LoopOptions options = quick();
  options.source_interval = 10ms;
  controller::ControlLoop loop(host, nullptr, options);
  LoopThread running(loop);
  REQUIRE(host.await_passes(1));
  REQUIRE(await_polls(host, 5));
  CHECK(host.loads == 1);

  write_source(host, "second", "v2");
  REQUIRE(host.await_passes(2));
  CHECK(host.pass(1).reason == PassReason::desired_changed);
  CHECK(host.pass(1).desired_name == "second");
  CHECK(host.loads == 2);

  // A change the fingerprint does not show waits for news, SIGHUP or the
  // resync: the poll alone does not read it.
  write_source(host, "third", "v2");
  REQUIRE(await_polls(host, 5));
  CHECK(host.loads == 2);
  CHECK(host.passes_seen() == 2);
  loop.events().post_source_changed();
  REQUIRE(host.await_passes(3));
  CHECK(host.pass(2).desired_name == "third");
  CHECK(host.loads == 3);
  loop.events().post_reload();
  REQUIRE(host.await([&] { return host.loads == 4; }));

  // A load that fails is tried again at the next poll, fingerprint or not.
  {
    std::lock_guard<std::mutex> lock(host.m_mutex);
    host.broken = true;
  }
  loop.events().post_source_changed();
  REQUIRE(host.await([&] { return host.rejected.size() == 1; }));
  const int failed_loads = host.loads;
  REQUIRE(host.await([&] { return host.loads > failed_loads; }));
  CHECK(running.stop() == 0);
}

TEST_CASE("control loop: without a fingerprint every poll loads", "[control_loop][fingerprint]") {
  ScriptedHost host;
  controller::LoopOptions options = quick();
  options.source_interval = 10ms;
  controller::ControlLoop loop(host, nullptr, options);
  LoopThread running(loop);
  REQUIRE(host.await_passes(1));
  REQUIRE(await_polls(host, 4));
  CHECK(host.await([&] { return host.loads >= 4; }));
  CHECK(running.stop() == 0);
  CHECK(host.passes_seen() == 1);
}

TEST_CASE("control loop: a resync reads the sources in full whatever their fingerprint", "[control_loop][fingerprint]") {
  ScriptedHost host;
  host.fingerprint = "v1";
  controller::LoopOptions options = quick();
  options.source_interval = 10ms;
  options.resync_interval = 200ms;
  controller::ControlLoop loop(host, nullptr, options);
  LoopThread running(loop);
  REQUIRE(host.await_passes(1));
  write_source(host, "second", "v1");
  REQUIRE(host.await_passes(2));
  CHECK(host.pass(1).reason == PassReason::resync);
  CHECK(host.pass(1).full);
  CHECK(host.pass(1).desired_name == "second");
  CHECK(running.stop() == 0);
}

TEST_CASE("control loop: a failed resync is tried again after the backoff, not at once", "[control_loop]") {
  ScriptedHost host;
  controller::LoopOptions options = quick();
  options.resync_interval = 10ms;
  options.retry_min = 100ms;
  options.retry_max = 100ms;
  controller::ControlLoop loop(host, nullptr, options);
  LoopThread running(loop);
  REQUIRE(host.await_passes(1));
  const auto failing_from = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(host.m_mutex);
    host.fail_passes = 1000;
  }
  REQUIRE(host.await_passes(5));
  // Passes 2 to 5 fail; three backoffs separate them.
  CHECK(std::chrono::steady_clock::now() - failing_from >= 300ms);
  CHECK(host.pass(1).reason == PassReason::resync);
  CHECK(host.pass(4).reason == PassReason::resync);
  CHECK(host.pass(4).full);
  CHECK(running.stop() == 0);
}

}  // namespace control_loop_test

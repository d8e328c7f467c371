// The scheduler on its own: lowest index first among what may start, one
// write per room at a time, other rooms meanwhile, and one invite probing a
// server until the server is opened.

#include "controller/write_scheduler.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace write_scheduler_test {

namespace {

using Rooms = std::vector<std::string>;

// Takes until nothing more may start; the operations taken, in order.
std::vector<std::size_t> drain(controller::WriteScheduler& scheduler) {
  std::vector<std::size_t> taken;
  while (std::optional<std::size_t> next = scheduler.take()) {
    taken.push_back(*next);
  }
  return taken;
}

}  // namespace

TEST_CASE("write scheduler: without claims the lowest ready index goes first", "[write_scheduler]") {
  controller::WriteScheduler scheduler(4);
  for (std::size_t i : {3, 1, 2}) {
    scheduler.ready(i);
  }
  CHECK(scheduler.candidates() == 3);
  CHECK(drain(scheduler) == std::vector<std::size_t>{1, 2, 3});
  CHECK_FALSE(scheduler.take());
}

TEST_CASE("write scheduler: one operation per room at a time, other rooms meanwhile", "[write_scheduler]") {
  // 0, 1, 3 write to room a; 2 to room b; 4 to no room.
  controller::WriteScheduler scheduler(5);
  scheduler.set_claims(0, {"a"}, "");
  scheduler.set_claims(1, {"a"}, "");
  scheduler.set_claims(2, {"b"}, "");
  scheduler.set_claims(3, {"a"}, "");
  for (std::size_t i = 0; i < 5; ++i) {
    scheduler.ready(i);
  }
  CHECK(drain(scheduler) == std::vector<std::size_t>{0, 2, 4});
  scheduler.release(2);
  CHECK_FALSE(scheduler.take());  // room b is free, but nothing waits for it
  scheduler.release(0);
  CHECK(drain(scheduler) == std::vector<std::size_t>{1});
  scheduler.release(4);
  scheduler.release(1);
  CHECK(drain(scheduler) == std::vector<std::size_t>{3});
  scheduler.release(3);
  CHECK_FALSE(scheduler.take());
}

TEST_CASE("write scheduler: one candidate per room, the lowest index", "[write_scheduler]") {
  // Ten operations on room a, five on room b, made ready out of order: the
  // workers to wake are two, not fifteen.
  controller::WriteScheduler scheduler(15);
  for (std::size_t i = 0; i < 15; ++i) {
    scheduler.set_claims(i, {i < 10 ? "a" : "b"}, "");
  }
  for (std::size_t i : {5, 3, 9, 12, 11, 0, 14, 1, 2, 4, 6, 7, 8, 10, 13}) {
    scheduler.ready(i);
  }
  CHECK(scheduler.candidates() == 2);
  CHECK(drain(scheduler) == std::vector<std::size_t>{0, 10});
  scheduler.release(10);
  CHECK(drain(scheduler) == std::vector<std::size_t>{11});
  scheduler.release(0);
  CHECK(drain(scheduler) == std::vector<std::size_t>{1});
}

TEST_CASE("write scheduler: an operation on two rooms waits for both", "[write_scheduler]") {
  // 0 writes to a, 1 to b, 2 (a deletion) to a and b, 3 to a.
  controller::WriteScheduler scheduler(4);
  scheduler.set_claims(0, {"a"}, "");
  scheduler.set_claims(1, {"b"}, "");
  scheduler.set_claims(2, {"a", "b"}, "");
  scheduler.set_claims(3, {"a"}, "");
  for (std::size_t i = 0; i < 4; ++i) {
    scheduler.ready(i);
  }
  CHECK(drain(scheduler) == std::vector<std::size_t>{0, 1});
  scheduler.release(0);
  // Room a is free but 2 still waits for b; 3 may use a meanwhile.
  CHECK(drain(scheduler) == std::vector<std::size_t>{3});
  scheduler.release(1);
  CHECK_FALSE(scheduler.take());  // b is free, a is not
  scheduler.release(3);
  CHECK(drain(scheduler) == std::vector<std::size_t>{2});
  scheduler.release(2);
  CHECK_FALSE(scheduler.take());
}

TEST_CASE("write scheduler: the first invite to a server probes it alone", "[write_scheduler]") {
  // Invites to x.example in four rooms, one to y.example.
  controller::WriteScheduler scheduler(5);
  for (std::size_t i = 0; i < 4; ++i) {
    scheduler.set_claims(i, {"room" + std::to_string(i)}, "x.example");
  }
  scheduler.set_claims(4, {"room4"}, "y.example");
  for (std::size_t i = 0; i < 5; ++i) {
    scheduler.ready(i);
  }
  CHECK(drain(scheduler) == std::vector<std::size_t>{0, 4});

  SECTION("once the server answered, the others go together") {
    scheduler.open("x.example");
    scheduler.release(0);
    CHECK(drain(scheduler) == std::vector<std::size_t>{1, 2, 3});
  }
  SECTION("a probe that proved nothing hands over to the next invite") {
    scheduler.release(0);
    CHECK(drain(scheduler) == std::vector<std::size_t>{1});
    scheduler.release(1);
    CHECK(drain(scheduler) == std::vector<std::size_t>{2});
    scheduler.open("x.example");
    CHECK(drain(scheduler) == std::vector<std::size_t>{3});
  }
  SECTION("opening a server nobody invites to changes nothing") {
    scheduler.open("z.example");
    CHECK_FALSE(scheduler.take());
  }
}

TEST_CASE("write scheduler: a probe waiting for its room lets others use the server later", "[write_scheduler]") {
  // 0 writes to room a; 1 invites to x.example in room a; 2 in room b.
  controller::WriteScheduler scheduler(3);
  scheduler.set_claims(0, {"a"}, "");
  scheduler.set_claims(1, {"a"}, "x.example");
  scheduler.set_claims(2, {"b"}, "x.example");
  for (std::size_t i = 0; i < 3; ++i) {
    scheduler.ready(i);
  }
  // 1 waits for room a, so 2 probes x.example.
  CHECK(drain(scheduler) == std::vector<std::size_t>{0, 2});
  scheduler.release(0);
  CHECK_FALSE(scheduler.take());  // room a is free, but x.example is being probed
  scheduler.release(2);
  CHECK(drain(scheduler) == std::vector<std::size_t>{1});
}

TEST_CASE("write scheduler: many operations on one room cost one move each per release", "[write_scheduler]") {
  // 20,000 operations on 2,000 rooms, all ready at once: every one is taken
  // exactly once, rooms never twice at a time, and the walk ends.
  const std::size_t count = 20'000;
  controller::WriteScheduler scheduler(count);
  for (std::size_t i = 0; i < count; ++i) {
    scheduler.set_claims(i, {"room" + std::to_string(i % 2000)}, "");
    scheduler.ready(i);
  }
  std::vector<int> taken(count, 0);
  std::size_t done = 0;
  while (done < count) {
    std::vector<std::size_t> batch = drain(scheduler);
    REQUIRE_FALSE(batch.empty());
    std::vector<bool> busy(2000, false);
    for (std::size_t i : batch) {
      REQUIRE_FALSE(busy[i % 2000]);
      busy[i % 2000] = true;
      ++taken[i];
    }
    for (std::size_t i : batch) {
      scheduler.release(i);
    }
    done += batch.size();
  }
  CHECK(std::all_of(taken.begin(), taken.end(), [](int n) { return n == 1; }));
  CHECK_FALSE(scheduler.take());
}

}  // namespace write_scheduler_test

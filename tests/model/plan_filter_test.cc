#include <catch2/catch.hpp>

#include "model/plan_filter.h"

namespace plan_filter_test {

using model::Operation;
using model::Plan;
using model::ResourceChange;

namespace {

Operation op(Operation::Kind kind, std::string room, std::vector<std::size_t> depends_on = {}) {
  Operation out;
  out.kind = kind;
  out.room_key = std::move(room);
  out.depends_on = std::move(depends_on);
  return out;
}

ResourceChange change(std::string address, ResourceChange::Action action, std::vector<std::size_t> operations) {
  ResourceChange out;
  out.address = std::move(address);
  out.action = action;
  out.operations = std::move(operations);
  return out;
}

}  // namespace

TEST_CASE("held_back_destructive keeps repairs and leaves out archives, deletions and suspensions", "[plan_filter]") {
  Plan plan;
  plan.operations = {
      op(Operation::Kind::set_state, "a"),    // 0: repair of a
      op(Operation::Kind::set_state, "b"),    // 1: archive of b
      op(Operation::Kind::delete_room, "c"),  // 2: deletion of c
      op(Operation::Kind::invite, "d"),       // 3: repair of d
      op(Operation::Kind::suspend_account, ""),  // 4: suspension
  };
  plan.changes = {change("room.a", ResourceChange::Action::update, {0}),
                  change("room.b", ResourceChange::Action::archive, {1}),
                  change("room.c", ResourceChange::Action::destroy, {2}),
                  change("room.d", ResourceChange::Action::update, {3}),
                  change("account.e", ResourceChange::Action::suspend, {4})};
  plan.warnings = {"a warning"};

  model::FilteredPlan filtered = model::held_back_destructive(plan);

  REQUIRE(filtered.held_back == 3);
  REQUIRE(filtered.held_back_dependants == 0);
  REQUIRE(filtered.plan.changes.size() == 2);
  CHECK(filtered.plan.changes[0].address == "room.a");
  CHECK(filtered.plan.changes[1].address == "room.d");
  REQUIRE(filtered.plan.operations.size() == 2);
  CHECK(filtered.plan.operations[0].room_key == "a");
  CHECK(filtered.plan.operations[1].room_key == "d");
  // Change indices follow the renumbering.
  CHECK(filtered.plan.changes[1].operations == std::vector<std::size_t>{1});
  CHECK(filtered.plan.warnings == plan.warnings);
}

TEST_CASE("held_back_destructive leaves out whatever depends on a held-back operation, whole changes at a time",
          "[plan_filter]") {
  Plan plan;
  plan.operations = {
      op(Operation::Kind::create_room, "new"),         // 0: create
      op(Operation::Kind::set_state, "old"),           // 1: archive of old
      op(Operation::Kind::set_state, "x", {1}),        // 2: depends on the archive
      op(Operation::Kind::invite, "x"),                // 3: same change as 2
      op(Operation::Kind::invite, "y", {3}),           // 4: depends on 3, which goes with its change
      op(Operation::Kind::invite, "new", {0}),         // 5: depends on the kept create
  };
  plan.changes = {change("room.new", ResourceChange::Action::create, {0, 5}),
                  change("room.old", ResourceChange::Action::archive, {1}),
                  change("room.x", ResourceChange::Action::update, {2, 3}),
                  change("room.y", ResourceChange::Action::update, {4})};

  model::FilteredPlan filtered = model::held_back_destructive(plan);

  CHECK(filtered.held_back == 1);
  CHECK(filtered.held_back_dependants == 2);
  REQUIRE(filtered.plan.changes.size() == 1);
  CHECK(filtered.plan.changes[0].address == "room.new");
  REQUIRE(filtered.plan.operations.size() == 2);
  CHECK(filtered.plan.operations[1].depends_on == std::vector<std::size_t>{0});
  CHECK(filtered.plan.changes[0].operations == std::vector<std::size_t>{0, 1});
}

TEST_CASE("held_back_destructive of a plan without destructive changes is the plan", "[plan_filter]") {
  Plan plan;
  plan.operations = {op(Operation::Kind::create_room, "a"), op(Operation::Kind::invite, "a", {0})};
  plan.changes = {change("room.a", ResourceChange::Action::create, {0, 1})};
  model::FilteredPlan filtered = model::held_back_destructive(plan);
  CHECK(filtered.held_back == 0);
  CHECK(filtered.held_back_dependants == 0);
  CHECK(filtered.plan.changes == plan.changes);
  CHECK(filtered.plan.operations.size() == 2);
}

}  // namespace plan_filter_test

// Which rooms each kind of operation writes to, and which server an invite
// must reach: what keeps two writes to one room from being in flight at once.

#include "controller/write_targets.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "controller/write_scheduler.h"
#include "model/plan.h"

namespace write_targets_test {

namespace {

using Kind = model::Operation::Kind;
using Rooms = std::vector<std::string>;

model::Operation op(Kind kind, std::string room = "community/river", std::string user = "") {
  model::Operation operation;
  operation.kind = kind;
  operation.room_key = std::move(room);
  operation.user_id = std::move(user);
  return operation;
}

}  // namespace

TEST_CASE("write targets: room events are written to the operation's room", "[write_targets]") {
  for (Kind kind : {Kind::create_room, Kind::set_state, Kind::invite, Kind::kick, Kind::send_message}) {
    CAPTURE(static_cast<int>(kind));
    CHECK(controller::rooms_written(op(kind)) == Rooms{"community/river"});
  }
}

TEST_CASE("write targets: space links are written in the room that holds the event", "[write_targets]") {
  // The child link is an event of the space (room_key), naming the child.
  model::Operation child = op(Kind::set_state, "community/river");
  child.field = model::StateField::space_child;
  child.link_key = "community/river/general";
  CHECK(controller::rooms_written(child) == Rooms{"community/river"});
  // The parent link is an event of the child, naming the space.
  model::Operation parent = op(Kind::set_state, "community/river/general");
  parent.field = model::StateField::space_parent;
  parent.link_key = "community/river";
  CHECK(controller::rooms_written(parent) == Rooms{"community/river/general"});
}

TEST_CASE("write targets: deleting a room writes to it and to the space it is unlinked from", "[write_targets]") {
  model::Operation deletion = op(Kind::delete_room, "community/river/old");
  CHECK(controller::rooms_written(deletion) == Rooms{"community/river/old"});
  deletion.link_key = "community/river";
  CHECK(controller::rooms_written(deletion) == Rooms{"community/river/old", "community/river"});
}

TEST_CASE("write targets: account data and accounts write to no room", "[write_targets]") {
  CHECK(controller::rooms_written(op(Kind::set_direct, "dm/request-1", "@a:example.org")).empty());
  for (Kind kind : {Kind::create_account, Kind::update_account, Kind::suspend_account, Kind::reactivate_account}) {
    model::Operation account = op(kind, "");
    account.account_key = "alice";
    CHECK(controller::rooms_written(account).empty());
  }
}

TEST_CASE("write targets: two m.direct changes for one user are never in flight together", "[write_targets]") {
  const model::Operation first = op(Kind::set_direct, "dm/request-1", "@a:example.org");
  const model::Operation second = op(Kind::set_direct, "dm/request-2", "@a:example.org");
  const model::Operation other = op(Kind::set_direct, "dm/request-2", "@b:example.org");
  CHECK(controller::exclusive_targets(first) == Rooms{"m.direct @a:example.org"});
  CHECK(controller::exclusive_targets(op(Kind::invite, "community/river", "@a:example.org")) ==
        Rooms{"community/river"});
  controller::WriteScheduler scheduler(3);
  scheduler.set_claims(0, controller::exclusive_targets(first), "");
  scheduler.set_claims(1, controller::exclusive_targets(second), "");
  scheduler.set_claims(2, controller::exclusive_targets(other), "");
  for (std::size_t i = 0; i < 3; ++i) {
    scheduler.ready(i);
  }
  CHECK(scheduler.take() == std::optional<std::size_t>(0));
  CHECK(scheduler.take() == std::optional<std::size_t>(2));  // another user's: not held back
  CHECK(scheduler.take() == std::nullopt);                   // @a's second waits for the first
  scheduler.release(0);
  CHECK(scheduler.take() == std::optional<std::size_t>(1));
}

TEST_CASE("write targets: an invite names its invitee's server, nothing else does", "[write_targets]") {
  CHECK(controller::invited_server(op(Kind::invite, "r", "@dana:other.example")) == "other.example");
  CHECK(controller::invited_server(op(Kind::invite, "r", "@dana:other.example:8448")) == "other.example:8448");
  CHECK(controller::invited_server(op(Kind::invite, "r", "not-a-user-id")).empty());
  CHECK(controller::invited_server(op(Kind::kick, "r", "@dana:other.example")).empty());
}

}  // namespace write_targets_test

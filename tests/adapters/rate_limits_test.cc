#include <catch2/catch.hpp>

#include "adapters/homeserver/rate_limits.h"
#include "model/plan.h"

namespace rate_limits_test {

namespace {

// `rooms` creations with `invites_per_room` invites each (the same users in
// every room when `shared_users`, else different ones), and state writes.
model::Plan plan_of(std::size_t rooms, std::size_t invites_per_room, std::size_t state_writes,
                    bool shared_users = false) {
  model::Plan plan;
  for (std::size_t r = 0; r < rooms; ++r) {
    model::Operation create;
    create.kind = model::Operation::Kind::create_room;
    create.room_key = "room/" + std::to_string(r);
    plan.operations.push_back(create);
    for (std::size_t i = 0; i < invites_per_room; ++i) {
      model::Operation invite;
      invite.kind = model::Operation::Kind::invite;
      invite.room_key = create.room_key;
      invite.user_id = "@user" + std::to_string(i) + (shared_users ? "" : "." + std::to_string(r)) + ":example.org";
      plan.operations.push_back(invite);
    }
  }
  for (std::size_t s = 0; s < state_writes; ++s) {
    model::Operation write;
    write.kind = model::Operation::Kind::set_state;
    plan.operations.push_back(write);
  }
  model::Operation account;
  account.kind = model::Operation::Kind::create_account;
  plan.operations.push_back(account);
  return plan;
}

}  // namespace

TEST_CASE("rate limits: a plan's load counts what each limiter sees", "[rate_limits]") {
  adapters::WriteLoad load = adapters::write_load(plan_of(3, 4, 2, true));
  CHECK(load.room_creations == 3);
  CHECK(load.invites == 12);
  CHECK(load.other_writes == 2);
  CHECK(load.max_invites_to_one_room == 4);
  CHECK(load.max_invites_to_one_user == 3);
}

TEST_CASE("rate limits: estimates under Synapse's default limits", "[rate_limits]") {
  using std::chrono::seconds;
  // Within every burst: no wait.
  CHECK(adapters::estimate_apply_duration({.room_creations = 3, .invites = 5}) == seconds(0));
  // rc_message: (14 + 78 - 10) / 0.2 = 410 s; rc_room_creation: (14 - 10) / 0.016 = 250 s.
  CHECK(adapters::estimate_apply_duration({.room_creations = 14, .invites = 78}) == seconds(410));
  // Many rooms: rc_room_creation (one a minute) dominates: (40 - 10) / 0.016 = 1875 s.
  CHECK(adapters::estimate_apply_duration({.room_creations = 40}) == seconds(1875));
  // One user invited to 7 rooms: rc_invites.per_user, (7 - 5) / 0.003 = 667 s.
  CHECK(adapters::estimate_apply_duration({.invites = 7, .max_invites_to_one_user = 7}) == seconds(667));
  // An override replaces rc_message's rate: (92 - 20) / 2 = 36 s, but room creation still takes 250 s.
  CHECK(adapters::estimate_apply_duration({.room_creations = 14, .invites = 78},
                                          adapters::RateOverride{2, 20}) == seconds(250));
}

TEST_CASE("rate limits: the note for the plan", "[rate_limits]") {
  adapters::RateLimits limits;
  limits.state = adapters::RateLimits::State::limited;
  limits.description = "@mxctl:example.org has no rate-limit override on Synapse 1.120.0";
  limits.remedy = "an admin can lift it";
  model::Plan plan = plan_of(14, 2, 0);  // 14 rooms, 28 invites: (42 - 10) / 0.2 = 160 s, 250 s for the rooms
  CHECK(adapters::rate_limit_note(limits, plan) ==
        "Note: @mxctl:example.org has no rate-limit override on Synapse 1.120.0; applying 14 rooms and 28 invites "
        "may take about 5 minutes (an admin can lift it)");
  SECTION("other writes are named too") {
    CHECK(adapters::rate_limit_note(limits, plan_of(14, 2, 3)) ==
          "Note: @mxctl:example.org has no rate-limit override on Synapse 1.120.0; applying 14 rooms, 28 invites and "
          "3 other changes may take about 5 minutes (an admin can lift it)");
  }
  SECTION("people invited to many rooms wait longest: rc_invites.per_user") {
    // 14 invites to each of 2 users: (14 - 5) / 0.003 = 3000 s.
    CHECK(adapters::rate_limit_note(limits, plan_of(14, 2, 0, true)) ==
          "Note: @mxctl:example.org has no rate-limit override on Synapse 1.120.0; applying 14 rooms and 28 invites "
          "may take about 50 minutes (an admin can lift it)");
  }
  SECTION("nothing to say") {
    CHECK(adapters::rate_limit_note(limits, plan_of(2, 2, 0)).empty());  // fits in the bursts
    limits.state = adapters::RateLimits::State::unlimited;
    CHECK(adapters::rate_limit_note(limits, plan).empty());
    limits.state = adapters::RateLimits::State::unknown;
    CHECK(adapters::rate_limit_note(limits, plan).empty());
  }
}

}  // namespace rate_limits_test

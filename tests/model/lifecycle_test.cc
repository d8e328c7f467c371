// The lifecycle's decisions, one boundary per case: archive on removal or
// on `archived: true`, keep during the grace period, delete at its end (day
// 59 kept, day 60 deleted, day 61 deleted), never delete when the clock went
// backwards, restore, protection, suspension, and the mass-change guard.

#include <catch2/catch.hpp>

#include <algorithm>

#include "model/compile.h"
#include "model/lifecycle.h"

namespace lifecycle_test {

namespace {

using Action = model::ResourceChange::Action;

const std::string k_bot = "@mxctl:example.org";
const std::int64_t k_day0 = 1'780'000'000'000;  // 2026-05-28T20:26:40Z
constexpr int k_grace = 60;

model::Room room(const std::string& key, const std::string& name) {
  model::Room r;
  r.key = key;
  r.alias = "#mxctl." + key + ":example.org";
  r.name = name;
  r.topic = "About " + name;
  r.join_rule = model::JoinRule::invite;
  r.power_levels.users[k_bot] = 100;
  return r;
}

model::ObservedRoom observed(const model::Room& r, const std::string& room_id) {
  model::ObservedRoom o;
  o.room_id = room_id;
  o.marker_key = r.key;
  o.room = r;
  o.members[k_bot] = {model::Membership::join, true};
  return o;
}

// The server side of a room archived at `at` (what a previous pass wrote).
model::ObservedRoom archived_on_server(const model::Room& r, const std::string& room_id, std::int64_t at) {
  model::Room archived = model::archived_form(r);
  archived.archived_at = at;
  archived.topic = model::archive_topic(at, k_grace);
  model::ObservedRoom o = observed(archived, room_id);
  o.room.archived = false;  // Observation does not set the flag; only the event.
  return o;
}

model::DiffOptions diff_options() {
  model::DiffOptions options;
  options.bot_user_id = k_bot;
  return options;
}

model::PassPlan plan_at(const model::MatrixState& desired, const model::ObservedState& observed_state,
                        std::int64_t now, const model::LifecycleRecords& records = {}) {
  model::LifecycleOptions lifecycle;
  lifecycle.now = now;
  lifecycle.grace_period_days = k_grace;
  return model::plan_pass(desired, observed_state, records, lifecycle, diff_options());
}

const model::ResourceChange* change_of(const model::Plan& plan, const std::string& address) {
  auto it = std::find_if(plan.changes.begin(), plan.changes.end(),
                         [&](const model::ResourceChange& c) { return c.address == address; });
  return it == plan.changes.end() ? nullptr : &*it;
}

bool has_delete(const model::Plan& plan) {
  return std::any_of(plan.operations.begin(), plan.operations.end(),
                     [](const model::Operation& op) { return op.kind == model::Operation::Kind::delete_room; });
}

}  // namespace

TEST_CASE("lifecycle: a room gone from the desired state is archived, dated, with its deletion date", "[lifecycle]") {
  model::Room ops = room("community/ops", "Ops");
  model::ObservedState have;
  have.rooms["community/ops"] = observed(ops, "!ops:example.org");
  model::PassPlan pass = plan_at({}, have, k_day0);

  const model::ResourceChange* change = change_of(pass.plan, "room.community/ops");
  REQUIRE(change != nullptr);
  CHECK(change->action == Action::archive);
  CHECK(change->reason == "it is no longer in the desired state; it will be deleted on 2026-07-27 unless it comes back "
                          "before");
  REQUIRE_FALSE(change->fields.empty());
  CHECK(change->fields.back() == model::FieldChange{"deleted_on", std::nullopt, model::TextValue{"2026-07-27"}});
  const model::Room& want = pass.desired.rooms.at("community/ops");
  CHECK(want.name == "Ops (archived)");
  CHECK(want.topic == "Archived on 2026-05-28; it will be deleted on 2026-07-27.");
  CHECK(want.join_rule == model::JoinRule::invite);
  CHECK(want.power_levels.events_default == 100);
  CHECK(want.archived_at == k_day0);
  // The archive is written to the room too, so a lost store keeps the clock.
  CHECK(std::any_of(pass.plan.operations.begin(), pass.plan.operations.end(), [](const model::Operation& op) {
    return op.field == model::StateField::archive_record;
  }));
  CHECK_FALSE(has_delete(pass.plan));
}

TEST_CASE("lifecycle: rooms without our marker are never archived", "[lifecycle]") {
  model::Room foreign = room("community/ops", "Ops");
  model::ObservedState have;
  model::ObservedRoom o = observed(foreign, "!ops:example.org");
  o.marker_key = "community/other";  // Found under one key, marked with another.
  have.rooms["community/ops"] = o;
  model::PassPlan pass = plan_at({}, have, k_day0);
  CHECK(pass.plan.empty());
}

TEST_CASE("lifecycle: the grace period ends on day 60, measured by the archive event", "[lifecycle]") {
  model::Room ops = room("community/ops", "Ops");
  model::ObservedState have;
  have.rooms["community/ops"] = archived_on_server(ops, "!ops:example.org", k_day0);
  const std::int64_t day = model::days_ms(1);

  SECTION("day 59: kept, and nothing to change") {
    model::PassPlan pass = plan_at({}, have, k_day0 + 59 * day);
    CHECK(pass.plan.empty());
  }
  SECTION("one millisecond before day 60: kept") {
    CHECK_FALSE(has_delete(plan_at({}, have, k_day0 + 60 * day - 1).plan));
  }
  SECTION("day 60 exactly: deleted, with the reason") {
    model::PassPlan pass = plan_at({}, have, k_day0 + 60 * day);
    const model::ResourceChange* change = change_of(pass.plan, "room.community/ops");
    REQUIRE(change != nullptr);
    CHECK(change->action == Action::destroy);
    CHECK(change->reason == "archived on 2026-05-28, grace period of 60 days ended on 2026-07-27");
    REQUIRE(change->operations.size() == 1);
    const model::Operation& op = pass.plan.operations[change->operations[0]];
    CHECK(op.kind == model::Operation::Kind::delete_room);
    CHECK(op.archived_at == k_day0);
    const std::vector<model::FieldChange> room_id{{"room_id", model::TextValue{"!ops:example.org"}, std::nullopt}};
    CHECK(change->fields == room_id);
    CHECK(op.fields == room_id);  // for the audit log
    CHECK(pass.plan.operations.size() == 1);  // Nothing else is written to a room about to go.
  }
  SECTION("day 61: deleted") {
    CHECK(has_delete(plan_at({}, have, k_day0 + 61 * day).plan));
  }
  SECTION("a clock that went backwards never deletes") {
    CHECK_FALSE(has_delete(plan_at({}, have, k_day0 - day).plan));
    CHECK(plan_at({}, have, k_day0 - day).plan.empty());
  }
  SECTION("the room's event wins over a later store record") {
    model::LifecycleRecords records;
    records.archived_at["community/ops"] = k_day0 + 30 * day;
    CHECK(has_delete(plan_at({}, have, k_day0 + 60 * day, records).plan));
  }
}

TEST_CASE("lifecycle: a store record alone is first written to the room, then counts", "[lifecycle]") {
  // The archive event was lost (or never written): the store's time is
  // written back into the room, and deletion waits for the next pass.
  model::Room ops = room("community/ops", "Ops");
  model::ObservedState have;
  model::ObservedRoom o = archived_on_server(ops, "!ops:example.org", k_day0);
  o.room.archived_at.reset();
  have.rooms["community/ops"] = o;
  model::LifecycleRecords records;
  records.archived_at["community/ops"] = k_day0;
  model::PassPlan pass = plan_at({}, have, k_day0 + model::days_ms(70), records);
  CHECK_FALSE(has_delete(pass.plan));
  CHECK(pass.desired.rooms.at("community/ops").archived_at == k_day0);
}

TEST_CASE("lifecycle: a room back within the grace period is restored exactly", "[lifecycle]") {
  model::Room ops = room("community/ops", "Ops");
  ops.join_rule = model::JoinRule::restricted;
  ops.allow_spaces = {"community/parent"};
  model::ObservedState have;
  have.rooms["community/ops"] = archived_on_server(ops, "!ops:example.org", k_day0);
  model::MatrixState desired;
  desired.rooms["community/ops"] = ops;
  model::PassPlan pass = plan_at(desired, have, k_day0 + model::days_ms(59));
  const model::ResourceChange* change = change_of(pass.plan, "room.community/ops");
  REQUIRE(change != nullptr);
  CHECK(change->action == Action::restore);
  std::vector<std::string> fields;
  for (const model::FieldChange& field : change->fields) {
    fields.push_back(field.name);
  }
  CHECK(fields == std::vector<std::string>{"name", "topic", "join_rule", "archived_at", "power_levels.events_default"});
  CHECK_FALSE(has_delete(pass.plan));
}

TEST_CASE("lifecycle: archived: true archives what exists and creates nothing", "[lifecycle]") {
  model::Room ops = room("community/ops", "Ops");
  model::Room never = room("community/never", "Never");
  model::MatrixState desired;
  desired.rooms["community/ops"] = model::archived_form(ops);
  desired.rooms["community/never"] = model::archived_form(never);
  model::ObservedState have;
  have.rooms["community/ops"] = observed(ops, "!ops:example.org");
  model::PassPlan pass = plan_at(desired, have, k_day0);
  REQUIRE(change_of(pass.plan, "room.community/ops") != nullptr);
  CHECK(change_of(pass.plan, "room.community/ops")->action == Action::archive);
  CHECK(change_of(pass.plan, "room.community/never") == nullptr);
}

TEST_CASE("lifecycle: protected rooms are never deleted nor dropped", "[lifecycle]") {
  model::Room ops = room("community/ops", "Ops");
  ops.protect = true;
  model::ObservedState have;

  SECTION("removed from the desired state: an error, nothing archived") {
    have.rooms["community/ops"] = observed(ops, "!ops:example.org");
    model::LifecycleRecords records;
    records.protected_addresses.insert("room.community/ops");
    model::PassPlan pass = plan_at({}, have, k_day0, records);
    REQUIRE(pass.plan.changes.size() == 1);
    CHECK(pass.plan.changes[0].action == Action::error);
    CHECK(pass.plan.changes[0].reason.find("protected (protect: true)") != std::string::npos);
    CHECK(pass.plan.operations.empty());
  }
  SECTION("removed, with the protection only in the room's marker (a lost store): an error, nothing archived") {
    have.rooms["community/ops"] = observed(ops, "!ops:example.org");  // its marker says protect: true
    model::PassPlan pass = plan_at({}, have, k_day0);
    REQUIRE(pass.plan.changes.size() == 1);
    CHECK(pass.plan.changes[0].action == Action::error);
    CHECK(pass.plan.changes[0].reason.find("protected (protect: true)") != std::string::npos);
    CHECK(pass.plan.operations.empty());
  }
  SECTION("removed, protected nowhere: archived") {
    model::Room plain = room("community/ops", "Ops");
    have.rooms["community/ops"] = observed(plain, "!ops:example.org");
    model::PassPlan pass = plan_at({}, have, k_day0);
    const model::ResourceChange* change = change_of(pass.plan, "room.community/ops");
    REQUIRE(change != nullptr);
    CHECK(change->action == Action::archive);
  }
  SECTION("archived and past its grace period: an error instead of the deletion") {
    have.rooms["community/ops"] = archived_on_server(ops, "!ops:example.org", k_day0);
    model::MatrixState desired;
    desired.rooms["community/ops"] = model::archived_form(ops);
    model::PassPlan pass = plan_at(desired, have, k_day0 + model::days_ms(61));
    CHECK_FALSE(has_delete(pass.plan));
    const model::ResourceChange* change = change_of(pass.plan, "room.community/ops");
    REQUIRE(change != nullptr);
    CHECK(change->action == Action::error);
    CHECK(change->reason.find("it is not deleted") != std::string::npos);
  }
}

TEST_CASE("lifecycle: a space is deleted after its children", "[lifecycle]") {
  model::Room space = room("community/ops", "Ops");
  space.kind = model::RoomKind::space;
  space.children = {{"community/ops/general", {"example.org"}, true}};
  model::Room general = room("community/ops/general", "Ops General");
  general.parent = model::SpaceLink{"community/ops", {"example.org"}, true};
  model::ObservedState have;
  have.rooms["community/ops"] = archived_on_server(space, "!space:example.org", k_day0);
  have.rooms["community/ops/general"] = archived_on_server(general, "!general:example.org", k_day0);
  model::Plan plan = plan_at({}, have, k_day0 + model::days_ms(60)).plan;
  REQUIRE(plan.operations.size() == 2);
  const model::Operation& first = plan.operations[0];
  const model::Operation& second = plan.operations[1];
  CHECK(first.room_key == "community/ops/general");
  CHECK(second.room_key == "community/ops");
  CHECK(second.depends_on == std::vector<std::size_t>{0});
}

TEST_CASE("lifecycle: people gone or deactivated are demoted, kicked from councils, then suspended", "[lifecycle]") {
  model::Account dave{"dave", "@dave:example.org", "dave", "Dave", std::nullopt, false,
                      model::AccountStatus::active, {}, false};
  model::Room council = room("council/disputes", "Disputes");
  council.members = {"@dave:example.org"};
  council.power_levels.users["@dave:example.org"] = 50;
  model::Room general = room("community/ops/general", "General");
  general.members = {"@dave:example.org"};
  general.power_levels.users["@dave:example.org"] = 25;

  model::ObservedState have;
  have.accounts["dave"] = dave;
  model::ObservedRoom observed_council = observed(council, "!c:example.org");
  observed_council.members["@dave:example.org"] = {model::Membership::join, true};
  have.rooms["council/disputes"] = observed_council;
  model::ObservedRoom observed_general = observed(general, "!g:example.org");
  observed_general.members["@dave:example.org"] = {model::Membership::join, true};
  have.rooms["community/ops/general"] = observed_general;

  // The desired state without dave: rooms stay, dave is not in them.
  model::MatrixState desired;
  model::Room council_without = council;
  council_without.members.clear();
  council_without.power_levels.users.erase("@dave:example.org");
  model::Room general_without = general;
  general_without.members.clear();
  general_without.power_levels.users.erase("@dave:example.org");
  desired.rooms["council/disputes"] = council_without;
  desired.rooms["community/ops/general"] = general_without;

  auto check_suspension = [&](const model::PassPlan& pass) {
    const model::ResourceChange* change = change_of(pass.plan, "account.dave");
    REQUIRE(change != nullptr);
    CHECK(change->action == Action::suspend);
    const model::Operation& suspend = pass.plan.operations[change->operations.back()];
    REQUIRE(suspend.kind == model::Operation::Kind::suspend_account);
    CHECK(suspend.fields == std::vector<model::FieldChange>{
                                {"status", model::TextValue{"active"}, model::TextValue{"suspended"}}});
    // It waits for every demotion and for the kick from the council.
    std::size_t waits_for_levels = 0;
    bool waits_for_kick = false;
    for (std::size_t dep : suspend.depends_on) {
      const model::Operation& op = pass.plan.operations[dep];
      waits_for_levels += op.field == model::StateField::power_levels && op.kind == model::Operation::Kind::set_state;
      waits_for_kick |= op.kind == model::Operation::Kind::kick && op.user_id == "@dave:example.org";
    }
    CHECK(waits_for_levels == 2);
    CHECK(waits_for_kick);
    // Kicked from the council, not from the community's general room.
    std::size_t kicks = 0;
    for (const model::Operation& op : pass.plan.operations) {
      if (op.kind == model::Operation::Kind::kick) {
        ++kicks;
        CHECK(op.room_key == "council/disputes");
      }
    }
    CHECK(kicks == 1);
  };

  SECTION("deactivated: true") {
    model::Account deactivated = dave;
    deactivated.status = model::AccountStatus::suspended;
    desired.accounts["dave"] = deactivated;
    check_suspension(plan_at(desired, have, k_day0));
  }
  SECTION("gone from the desired state, but managed") {
    model::LifecycleRecords records;
    records.managed_accounts["dave"] = "@dave:example.org";
    check_suspension(plan_at(desired, have, k_day0, records));
  }
  SECTION("gone and not managed: left alone") {
    model::PassPlan pass = plan_at(desired, have, k_day0);
    CHECK(change_of(pass.plan, "account.dave") == nullptr);
  }
  SECTION("reactivated") {
    have.accounts["dave"].status = model::AccountStatus::suspended;
    desired.accounts["dave"] = dave;
    model::PassPlan pass = plan_at(desired, have, k_day0);
    const model::ResourceChange* change = change_of(pass.plan, "account.dave");
    REQUIRE(change != nullptr);
    CHECK(change->action == Action::update);
    CHECK(pass.plan.operations[change->operations.back()].kind == model::Operation::Kind::reactivate_account);
  }
}

TEST_CASE("lifecycle: plan_pass on a moved desired state decides as on a kept one", "[lifecycle]") {
  // One of each decision: archive (declared and removed), keep archived,
  // delete (declared archived and removed, past the grace period), restore,
  // drop (declared archived, never created), suspend, and an update.
  const std::int64_t now = k_day0 + model::days_ms(61);
  model::MatrixState desired;
  model::ObservedState have;
  model::Room declared_new = room("community/declared-new", "Declared new");
  desired.rooms[declared_new.key] = model::archived_form(declared_new);
  have.rooms[declared_new.key] = observed(declared_new, "!dn:example.org");
  model::Room declared_old = room("community/declared-old", "Declared old");
  desired.rooms[declared_old.key] = model::archived_form(declared_old);
  have.rooms[declared_old.key] = archived_on_server(declared_old, "!do:example.org", k_day0);
  model::Room declared_recent = room("community/declared-recent", "Declared recent");
  desired.rooms[declared_recent.key] = model::archived_form(declared_recent);
  have.rooms[declared_recent.key] =
      archived_on_server(declared_recent, "!dr:example.org", now - model::days_ms(3));
  model::Room never = room("community/never", "Never");
  desired.rooms[never.key] = model::archived_form(never);
  model::Room removed = room("community/removed", "Removed");
  have.rooms[removed.key] = observed(removed, "!r:example.org");
  model::Room removed_old = room("community/removed-old", "Removed old");
  have.rooms[removed_old.key] = archived_on_server(removed_old, "!ro:example.org", k_day0);
  model::Room back = room("community/back", "Back");
  desired.rooms[back.key] = back;
  have.rooms[back.key] = archived_on_server(back, "!b:example.org", now - model::days_ms(5));
  model::Room renamed = room("community/renamed", "Renamed");
  desired.rooms[renamed.key] = renamed;
  have.rooms[renamed.key] = observed(room("community/renamed", "Old name"), "!n:example.org");
  model::Account erin{"erin", "@erin:example.org", "erin", "Erin", std::nullopt, false,
                      model::AccountStatus::active, {}, false};
  have.accounts["erin"] = erin;
  model::LifecycleRecords records;
  records.managed_accounts["erin"] = "@erin:example.org";

  const model::MatrixState kept = desired;
  model::PassPlan from_copy = plan_at(desired, have, now, records);
  model::LifecycleOptions lifecycle;
  lifecycle.now = now;
  lifecycle.grace_period_days = k_grace;
  model::PassPlan from_move = model::plan_pass(std::move(desired), have, records, lifecycle, diff_options());

  CHECK(from_move.plan.changes == from_copy.plan.changes);
  CHECK(from_move.plan.operations == from_copy.plan.operations);
  CHECK(from_move.desired == from_copy.desired);
  CHECK(from_copy.desired != kept);
  // Each room deleted once, declared or removed.
  std::vector<std::string> deleted;
  for (const model::Operation& op : from_move.plan.operations) {
    if (op.kind == model::Operation::Kind::delete_room) {
      deleted.push_back(op.room_key);
    }
  }
  CHECK(deleted == std::vector<std::string>{"community/declared-old", "community/removed-old"});
  CHECK(change_of(from_move.plan, "room.community/declared-new")->action == Action::archive);
  CHECK(change_of(from_move.plan, "room.community/removed")->action == Action::archive);
  CHECK(change_of(from_move.plan, "room.community/declared-recent") == nullptr);
  CHECK(change_of(from_move.plan, "room.community/never") == nullptr);
  CHECK(change_of(from_move.plan, "room.community/back")->action == Action::restore);
  CHECK(change_of(from_move.plan, "room.community/renamed")->action == Action::update);
  CHECK(change_of(from_move.plan, "account.erin")->action == Action::suspend);
  CHECK_FALSE(from_move.desired.rooms.count("community/never"));
  CHECK_FALSE(from_move.desired.rooms.count("community/declared-old"));
  CHECK(from_move.desired.rooms.count("community/removed"));
}

TEST_CASE("lifecycle: the observation scope, widened in place, comes back out exactly", "[lifecycle]") {
  model::MatrixState desired;
  desired.accounts["alice"] = {"alice", "@alice:example.org", "alice", "Alice", std::nullopt, false,
                               model::AccountStatus::active, {}, false};
  desired.rooms["community/ops"] = room("community/ops", "Ops");
  model::LifecycleRecords records;
  records.managed_accounts["alice"] = "@alice:example.org";
  records.managed_accounts["dave"] = "@dave:example.org";

  const model::MatrixState kept = desired;
  std::vector<std::string> added = model::widen_to_observation_scope(desired, records);
  CHECK(added == std::vector<std::string>{"dave"});
  CHECK(desired == model::observation_scope(kept, records));
  const model::Account& dave = desired.accounts.at("dave");
  CHECK(dave.user_id == "@dave:example.org");
  CHECK(dave.localpart == "dave");
  CHECK(dave.status == model::AccountStatus::suspended);
  for (const std::string& key : added) {
    desired.accounts.erase(key);
  }
  CHECK(desired == kept);
}

TEST_CASE("lifecycle: the mass-change guard", "[lifecycle]") {
  model::Settings settings;  // 20 %, 100 objects
  model::Plan plan;
  auto add = [&](Action action, int count) {
    for (int i = 0; i < count; ++i) {
      plan.changes.push_back({"room.r" + std::to_string(plan.changes.size()), action, {}, "", {}});
    }
  };

  SECTION("20% passes, 25% stops") {
    add(Action::archive, 2);
    CHECK_FALSE(model::mass_change_refusal(plan, {10, false}, settings));
    add(Action::suspend, 1);
    auto refusal = model::mass_change_refusal(plan, {12, false}, settings);
    REQUIRE(refusal);
    CHECK(*refusal == "this pass would archive 2, delete 0 and suspend 1 of 12 managed objects (25%), more than the "
                      "limit of 20% (massChangeMaxPercent); if that is intended, run again with --allow-mass-change");
  }
  SECTION("deletions count, updates do not") {
    add(Action::update, 50);
    add(Action::destroy, 1);
    CHECK(model::mass_change_refusal(plan, {4, false}, settings));
    CHECK_FALSE(model::mass_change_refusal(plan, {5, false}, settings));
  }
  SECTION("the count limit") {
    settings.mass_change_max_count = 3;
    add(Action::archive, 4);
    auto refusal = model::mass_change_refusal(plan, {1000, false}, settings);
    REQUIRE(refusal);
    CHECK(refusal->find("more than the limit of 3 (massChangeMaxCount)") != std::string::npos);
  }
  SECTION("a reset store refuses any archive, deletion or suspension, whatever the limits") {
    settings.mass_change_max_percent = 100;
    model::MassChangeFacts reset{100, false};
    reset.store_reset = true;
    add(Action::update, 3);
    CHECK_FALSE(model::mass_change_refusal(plan, reset, settings));
    add(Action::archive, 1);
    auto refusal = model::mass_change_refusal(plan, reset, settings);
    REQUIRE(refusal);
    CHECK(refusal->rfind("the state store knew none of the managed rooms on the homeserver", 0) == 0);
    CHECK(refusal->find("--allow-mass-change") != std::string::npos);
    CHECK_FALSE(model::mass_change_refusal(plan, {100, false}, settings));
  }
  SECTION("an empty desired state is always refused, whatever the limits") {
    settings.mass_change_max_percent = 100;
    auto refusal = model::mass_change_refusal(plan, {3, true}, settings);
    REQUIRE(refusal);
    CHECK(refusal->rfind("the desired state is empty", 0) == 0);
    CHECK_FALSE(model::mass_change_refusal(plan, {0, true}, settings));
  }
}

}  // namespace lifecycle_test

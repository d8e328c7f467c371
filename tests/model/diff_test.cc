#include <catch2/catch.hpp>

#include <algorithm>

#include "model/diff.h"

namespace diff_test {

namespace {

const std::string k_bot = "@mxctl:example.org";

model::Room make_room(const std::string& key, model::RoomKind kind) {
  model::Room room;
  room.key = key;
  room.alias = "#mxctl." + key + ":example.org";
  room.kind = kind;
  room.name = key;
  room.room_version = "10";
  room.power_levels.users = {{k_bot, 100}};
  return room;
}

// A small desired state: alice and bob, a community space with a general
// room, a council room, and a DM with a once-message.
model::MatrixState desired_state() {
  model::MatrixState state;
  for (const char* name : {"alice", "bob"}) {
    model::Account account;
    account.key = name;
    account.localpart = name;
    account.user_id = std::string("@") + name + ":example.org";
    state.accounts[name] = account;
  }
  model::Room space = make_room("community/river", model::RoomKind::space);
  model::Room general = make_room("community/river/general", model::RoomKind::room);
  model::Room council = make_room("council/disputes", model::RoomKind::room);
  model::Room dm = make_room("dm/req-1", model::RoomKind::room);
  space.children = {{general.key, {"example.org"}, true}, {council.key, {"example.org"}, true}};
  general.parent = model::SpaceLink{space.key, {"example.org"}, true};
  general.join_rule = model::JoinRule::restricted;
  general.allow_spaces = {space.key};
  council.parent = model::SpaceLink{space.key, {"example.org"}, true};
  council.encrypted = true;
  dm.encrypted = true;
  dm.is_direct = true;
  dm.once_message = model::OnceMessage{"mxctl.dm.req-1", "Request accepted!"};
  for (model::Room* room : {&space, &general, &council, &dm}) {
    room->members = {"@alice:example.org", "@bob:example.org"};
    room->power_levels.users["@alice:example.org"] = 50;
  }
  for (const model::Room& room : {space, general, council, dm}) {
    state.rooms[room.key] = room;
  }
  return state;
}

// What an observer would report for a homeserver already matching `desired`.
model::ObservedState converged(const model::MatrixState& desired) {
  model::ObservedState observed;
  observed.accounts = desired.accounts;
  for (const auto& [key, room] : desired.rooms) {
    model::ObservedRoom have;
    have.room_id = "!" + key + ":example.org";
    have.marker_key = key;
    have.room = room;
    have.members[k_bot] = {model::Membership::join, true};
    for (const std::string& user : room.members) {
      have.members[user] = {model::Membership::join, true};
    }
    observed.rooms[key] = have;
    if (room.once_message) {
      observed.messages_sent.insert(key);
    }
    if (room.is_direct) {
      for (const std::string& user : room.members) {
        observed.directs_set.insert({key, user});
      }
    }
  }
  return observed;
}

model::DiffOptions options() {
  model::DiffOptions out;
  out.bot_user_id = k_bot;
  return out;
}

std::vector<std::string> descriptions(const model::Plan& plan) {
  std::vector<std::string> out;
  for (const model::Operation& op : plan.operations) {
    out.push_back(model::describe(op));
  }
  return out;
}

const model::Operation& find_op(const model::Plan& plan, const std::string& description) {
  for (const model::Operation& op : plan.operations) {
    if (model::describe(op) == description) {
      return op;
    }
  }
  FAIL("no operation " << description);
  throw std::logic_error("unreachable");
}

std::size_t index_of(const model::Plan& plan, const std::string& description) {
  const model::Operation& op = find_op(plan, description);
  return static_cast<std::size_t>(&op - plan.operations.data());
}

}  // namespace

TEST_CASE("diff: a converged homeserver gives an empty plan", "[diff]") {
  model::MatrixState desired = desired_state();
  model::Plan plan = model::diff(desired, converged(desired), options());
  CHECK(plan.empty());
  CHECK(plan.operations.empty());
}

TEST_CASE("diff: an empty homeserver gets everything, parents first", "[diff]") {
  model::Plan plan = model::diff(desired_state(), model::ObservedState{}, options());
  // A new room's local members come with its createRoom; a DM's are invited
  // one by one, after its context message and its encryption.
  CHECK(descriptions(plan) == std::vector<std::string>{
                                  "create account alice",
                                  "create account bob",
                                  "create room community/river",
                                  "create room community/river/general",
                                  "create room council/disputes",
                                  "create room dm/req-1",
                                  "set m.space.child in community/river (community/river/general)",
                                  "set m.space.child in community/river (council/disputes)",
                                  "send the context message to dm/req-1",
                                  "set m.room.encryption in dm/req-1",
                                  "invite @alice:example.org to dm/req-1",
                                  "invite @bob:example.org to dm/req-1",
                                  "mark dm/req-1 as a direct chat for @alice:example.org",
                                  "mark dm/req-1 as a direct chat for @bob:example.org",
                              });
  CHECK(plan.count(model::ResourceChange::Action::create) == 6);
  const std::vector<std::string> both = {"@alice:example.org", "@bob:example.org"};
  CHECK(find_op(plan, "create room community/river").invitees == both);
  CHECK(find_op(plan, "create room community/river/general").invitees == both);
  CHECK(find_op(plan, "create room council/disputes").invitees == both);
  CHECK(find_op(plan, "create room dm/req-1").invitees.empty());
  SECTION("the plan still shows every member invited") {
    for (const model::ResourceChange& change : plan.changes) {
      if (change.address.rfind("room.", 0) != 0) {
        continue;
      }
      CHECK(std::count_if(change.fields.begin(), change.fields.end(), [](const model::FieldChange& field) {
              return field.name.rfind("members[", 0) == 0;
            }) == 2);
    }
  }
  SECTION("dependencies: child room after its space and its invitees' accounts, invite after room and account") {
    std::size_t space = index_of(plan, "create room community/river");
    std::size_t alice = index_of(plan, "create account alice");
    std::size_t bob = index_of(plan, "create account bob");
    std::size_t dm = index_of(plan, "create room dm/req-1");
    CHECK(find_op(plan, "create room community/river").depends_on == std::vector<std::size_t>{alice, bob});
    CHECK(find_op(plan, "create room community/river/general").depends_on ==
          std::vector<std::size_t>{space, alice, bob});
    CHECK(find_op(plan, "set m.space.child in community/river (community/river/general)").depends_on ==
          std::vector<std::size_t>{space, index_of(plan, "create room community/river/general")});
    std::size_t message = index_of(plan, "send the context message to dm/req-1");
    std::size_t encryption = index_of(plan, "set m.room.encryption in dm/req-1");
    CHECK(find_op(plan, "send the context message to dm/req-1").depends_on == std::vector<std::size_t>{dm});
    CHECK(find_op(plan, "set m.room.encryption in dm/req-1").depends_on == std::vector<std::size_t>{dm, message});
    CHECK(find_op(plan, "invite @alice:example.org to dm/req-1").depends_on ==
          std::vector<std::size_t>{dm, alice, message, encryption});
  }
}

TEST_CASE("diff: a room with a context message opens with it, then its encryption, then its invites", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  model::ObservedRoom& dm = observed.rooms["dm/req-1"];
  auto uninvite = [](model::ObservedRoom& room) {
    room.members.erase("@alice:example.org");
    room.members.erase("@bob:example.org");
  };
  auto depends = [](const model::Plan& plan, const std::string& op, const std::string& on) {
    const std::vector<std::size_t>& deps = find_op(plan, op).depends_on;
    return std::find(deps.begin(), deps.end(), index_of(plan, on)) != deps.end();
  };
  SECTION("created by a pass that stopped after createRoom: the message, encryption and invites follow in order") {
    dm.room.encrypted = false;
    uninvite(dm);
    observed.messages_sent.erase("dm/req-1");
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(depends(plan, "set m.room.encryption in dm/req-1", "send the context message to dm/req-1"));
    for (const char* user : {"@alice:example.org", "@bob:example.org"}) {
      const std::string invite = std::string("invite ") + user + " to dm/req-1";
      CHECK(depends(plan, invite, "send the context message to dm/req-1"));
      CHECK(depends(plan, invite, "set m.room.encryption in dm/req-1"));
    }
    // The plan reads in the order it runs.
    const model::ResourceChange& change = plan.changes.front();
    REQUIRE(change.address == "room.dm/req-1");
    CHECK(change.fields.front().name == "once_message");
  }
  SECTION("the message went out, the encryption did not: no invite before it") {
    dm.room.encrypted = false;
    uninvite(dm);
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(descriptions(plan) == std::vector<std::string>{"set m.room.encryption in dm/req-1",
                                                         "invite @alice:example.org to dm/req-1",
                                                         "invite @bob:example.org to dm/req-1"});
    CHECK(depends(plan, "invite @bob:example.org to dm/req-1", "set m.room.encryption in dm/req-1"));
  }
  SECTION("an encrypted room whose message is missing gets it before any invite") {
    uninvite(dm);
    observed.messages_sent.erase("dm/req-1");
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(depends(plan, "invite @alice:example.org to dm/req-1", "send the context message to dm/req-1"));
  }
  SECTION("any room to be encrypted gets its invites only once it is") {
    model::ObservedRoom& council = observed.rooms["council/disputes"];
    council.room.encrypted = false;
    uninvite(council);
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(depends(plan, "invite @alice:example.org to council/disputes", "set m.room.encryption in council/disputes"));
  }
}

TEST_CASE("diff: a createRoom invites only what it safely can", "[diff]") {
  model::MatrixState desired = desired_state();
  model::Room& general = desired.rooms["community/river/general"];
  SECTION("at most ten members; the rest are invited one by one") {
    for (int i = 0; i < 12; ++i) {
      const std::string name = "m" + std::to_string(10 + i);
      model::Account account;
      account.key = name;
      account.localpart = name;
      account.user_id = "@" + name + ":example.org";
      desired.accounts[name] = account;
      general.members.insert(account.user_id);
    }
    model::Plan plan = model::diff(desired, model::ObservedState{}, options());
    const model::Operation& create = find_op(plan, "create room community/river/general");
    REQUIRE(create.invitees.size() == model::k_most_invites_with_create_room);
    CHECK(create.invitees.front() == "@alice:example.org");
    const auto invites = std::count_if(plan.operations.begin(), plan.operations.end(), [](const model::Operation& op) {
      return op.kind == model::Operation::Kind::invite && op.room_key == "community/river/general";
    });
    CHECK(invites == 14 - 10);
  }
  SECTION("a member on another server, or without an account, is invited on their own") {
    general.members = {"@alice:example.org", "@far:elsewhere.org", "@ghost:example.org"};
    model::Plan plan = model::diff(desired, model::ObservedState{}, options());
    CHECK(find_op(plan, "create room community/river/general").invitees == std::vector<std::string>{"@alice:example.org"});
    find_op(plan, "invite @far:elsewhere.org to community/river/general");
    find_op(plan, "invite @ghost:example.org to community/river/general");
  }
  SECTION("an account that exists already needs no dependency") {
    model::ObservedState observed;
    observed.accounts = desired.accounts;
    model::Plan plan = model::diff(desired, observed, options());
    const model::Operation& create = find_op(plan, "create room community/river/general");
    CHECK(create.invitees == std::vector<std::string>{"@alice:example.org", "@bob:example.org"});
    CHECK(create.depends_on == std::vector<std::size_t>{index_of(plan, "create room community/river")});
  }
  SECTION("not when switched off (forceJoin joins local members instead)") {
    model::DiffOptions off = options();
    off.invite_with_create_room = false;
    model::Plan plan = model::diff(desired, model::ObservedState{}, off);
    CHECK(find_op(plan, "create room community/river/general").invitees.empty());
    find_op(plan, "invite @alice:example.org to community/river/general");
  }
  SECTION("a room that exists gets invites") {
    model::ObservedState observed = converged(desired);
    observed.rooms["community/river/general"].members.erase("@bob:example.org");
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(descriptions(plan) == std::vector<std::string>{"invite @bob:example.org to community/river/general"});
  }
}

TEST_CASE("diff: one trust change is one power-levels write that keeps other users", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  observed.rooms["community/river/general"].room.power_levels.users["@stranger:other.org"] = 30;
  desired.rooms["community/river/general"].power_levels.users["@alice:example.org"] = 25;
  model::Plan plan = model::diff(desired, observed, options());
  REQUIRE(plan.operations.size() == 1);
  const model::Operation& op = plan.operations[0];
  CHECK(op.field == model::StateField::power_levels);
  REQUIRE(op.power_levels.has_value());
  CHECK(op.power_levels->users == std::map<std::string, int>{
                                      {k_bot, 100}, {"@alice:example.org", 25}, {"@stranger:other.org", 30}});
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].fields == std::vector<model::FieldChange>{{"power_levels.users[\"@alice:example.org\"]",
                                                                   std::int64_t{50}, std::int64_t{25}}});
  SECTION("a managed user the policy no longer lists is removed from the map") {
    desired.rooms["community/river/general"].power_levels.users.erase("@alice:example.org");
    model::Plan removal = model::diff(desired, observed, options());
    REQUIRE(removal.operations.size() == 1);
    CHECK(removal.operations[0].power_levels->users.count("@alice:example.org") == 0);
    CHECK(removal.operations[0].power_levels->users.count("@stranger:other.org") == 1);
  }
}

TEST_CASE("diff: renaming changes the name event only", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  desired.rooms["community/river"].name = "River Commons";
  model::Plan plan = model::diff(desired, observed, options());
  CHECK(descriptions(plan) == std::vector<std::string>{"set m.room.name in community/river"});
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == model::ResourceChange::Action::update);
  const model::FieldChange name{"name", model::TextValue{"community/river"}, model::TextValue{"River Commons"}};
  CHECK(plan.changes[0].fields == std::vector<model::FieldChange>{name});
}

TEST_CASE("diff: a room that keeps guests out has guest access forbidden where guests may join", "[diff]") {
  model::MatrixState desired = desired_state();
  desired.rooms["council/disputes"].guests_forbidden = true;
  model::ObservedState observed = converged(desired);
  CHECK(model::diff(desired, observed, options()).empty());
  // The server lets guests join (a preset's can_join, or a hand's).
  observed.rooms["council/disputes"].room.guests_forbidden = false;
  // A room that does not manage guest access is left as it is.
  observed.rooms["community/river/general"].room.guests_forbidden = false;
  model::Plan plan = model::diff(desired, observed, options());
  CHECK(descriptions(plan) == std::vector<std::string>{"set m.room.guest_access in council/disputes"});
  REQUIRE(plan.changes.size() == 1);
  const model::FieldChange guests{"guest_access", model::TextValue{"can_join"}, model::TextValue{"forbidden"}};
  CHECK(plan.changes[0].fields == std::vector<model::FieldChange>{guests});
  CHECK(find_op(plan, "set m.room.guest_access in council/disputes").field == model::StateField::guest_access);
}

TEST_CASE("diff: protection is written to the room's marker, where a lost store cannot take it", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  SECTION("protected now") {
    desired.rooms["council/disputes"].protect = true;
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(descriptions(plan) == std::vector<std::string>{"set org.mxctl.managed in council/disputes"});
    REQUIRE(plan.changes.size() == 1);
    CHECK(plan.changes[0].action == model::ResourceChange::Action::update);
    CHECK(plan.changes[0].fields == std::vector<model::FieldChange>{{"protect", false, true}});
    CHECK(plan.operations[0].field == model::StateField::marker);
  }
  SECTION("no longer protected") {
    observed.rooms["council/disputes"].room.protect = true;
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(descriptions(plan) == std::vector<std::string>{"set org.mxctl.managed in council/disputes"});
  }
  SECTION("protected on both sides: nothing to do") {
    desired.rooms["council/disputes"].protect = true;
    observed.rooms["council/disputes"].room.protect = true;
    CHECK(model::diff(desired, observed, options()).empty());
  }
}

TEST_CASE("diff: members no longer desired are kicked from councils and DMs only", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  for (auto& [key, room] : desired.rooms) {
    room.members.erase("@bob:example.org");
  }
  model::Plan plan = model::diff(desired, observed, options());
  CHECK(descriptions(plan) == std::vector<std::string>{"kick @bob:example.org from council/disputes",
                                                       "kick @bob:example.org from dm/req-1"});
}

TEST_CASE("diff: a voluntary leave is respected in community rooms, not in councils", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  observed.rooms["community/river/general"].members["@bob:example.org"] = {model::Membership::leave, true};
  observed.rooms["council/disputes"].members["@bob:example.org"] = {model::Membership::leave, true};
  SECTION("default policy") {
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(descriptions(plan) == std::vector<std::string>{"invite @bob:example.org to council/disputes"});
  }
  SECTION("community re-invites switched on") {
    model::DiffOptions opts = options();
    opts.reinvite_to_community_rooms = true;
    model::Plan plan = model::diff(desired, observed, opts);
    CHECK(descriptions(plan) == std::vector<std::string>{"invite @bob:example.org to community/river/general",
                                                         "invite @bob:example.org to council/disputes"});
  }
  SECTION("a kicked member is re-invited everywhere") {
    observed.rooms["community/river/general"].members["@bob:example.org"] = {model::Membership::leave, false};
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(descriptions(plan) == std::vector<std::string>{"invite @bob:example.org to community/river/general",
                                                         "invite @bob:example.org to council/disputes"});
  }
}

TEST_CASE("diff: impossible changes are errors, not operations", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  SECTION("turning encryption off") {
    desired.rooms["council/disputes"].encrypted = false;
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(plan.operations.empty());
    REQUIRE(plan.error_count() == 1);
    CHECK(plan.changes[0].reason ==
          "room !council/disputes:example.org is encrypted; encryption cannot be turned off once on");
  }
  SECTION("a space that is a room on the server") {
    observed.rooms["community/river"].room.kind = model::RoomKind::room;
    model::Plan plan = model::diff(desired, observed, options());
    REQUIRE(plan.error_count() == 1);
    CHECK(plan.changes[0].reason == "room !community/river:example.org is a room on the homeserver but a space in "
                                    "the desired state; a room's type cannot change");
  }
  SECTION("an alias held by an unmanaged room") {
    observed.rooms.erase("dm/req-1");
    observed.alias_clashes["dm/req-1"] = "!squatter:example.org";
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(plan.operations.empty());
    REQUIRE(plan.error_count() == 1);
    CHECK(plan.changes[0].reason == "alias #mxctl.dm/req-1:example.org belongs to room !squatter:example.org, which "
                                    "has no mxctl marker; mxctl will not take it over");
  }
  SECTION("a banned member") {
    observed.rooms["council/disputes"].members["@bob:example.org"] = {model::Membership::ban, false};
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(plan.operations.empty());
    REQUIRE(plan.error_count() == 1);
    CHECK(plan.changes[0].reason ==
          "@bob:example.org is banned from room !council/disputes:example.org; mxctl does not lift bans");
  }
}

TEST_CASE("diff: a new room under an existing space links both ways", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  observed.rooms.erase("council/disputes");
  observed.rooms["community/river"].room.children = {{"community/river/general", {"example.org"}, true}};
  model::Plan plan = model::diff(desired, observed, options());
  std::size_t create = index_of(plan, "create room council/disputes");
  CHECK(find_op(plan, "create room council/disputes").depends_on.empty());
  CHECK(find_op(plan, "set m.space.child in community/river (council/disputes)").depends_on ==
        std::vector<std::size_t>{create});
}

TEST_CASE("diff: the once-message is sent once", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  observed.messages_sent.clear();
  CHECK(descriptions(model::diff(desired, observed, options())) ==
        std::vector<std::string>{"send the context message to dm/req-1"});
}

TEST_CASE("diff: profile changes update the account", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  desired.accounts["alice"].display_name = "Alice";
  model::Plan plan = model::diff(desired, observed, options());
  CHECK(descriptions(plan) == std::vector<std::string>{"update account alice"});
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].fields ==
        std::vector<model::FieldChange>{{"display_name", std::nullopt, model::TextValue{"Alice"}}});
}

TEST_CASE("diff: a DM is listed once in each local participant's m.direct", "[diff]") {
  model::MatrixState desired = desired_state();
  desired.rooms["dm/req-1"].members.insert("@alice:elsewhere.org");  // a linked account on another server
  model::ObservedState observed = converged(desired);
  observed.directs_set.erase({"dm/req-1", "@bob:example.org"});
  observed.directs_set.erase({"dm/req-1", "@alice:elsewhere.org"});
  model::Plan plan = model::diff(desired, observed, options());
  // Only our own accounts' account data can be written.
  CHECK(descriptions(plan) == std::vector<std::string>{"mark dm/req-1 as a direct chat for @bob:example.org"});
  SECTION("after a room creation, it waits for the room and the account") {
    model::Plan fresh = model::diff(desired_state(), model::ObservedState{}, options());
    std::size_t room = index_of(fresh, "create room dm/req-1");
    std::size_t bob = index_of(fresh, "create account bob");
    CHECK(find_op(fresh, "mark dm/req-1 as a direct chat for @bob:example.org").depends_on ==
          std::vector<std::size_t>{room, bob});
  }
}

TEST_CASE("diff: a server that cannot suspend gets one warning instead of a suspension every pass", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  desired.accounts["alice"].status = model::AccountStatus::suspended;
  desired.accounts["bob"].status = model::AccountStatus::suspended;
  SECTION("a server that can suspends") {
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(descriptions(plan) == std::vector<std::string>{"suspend account alice", "suspend account bob"});
    CHECK(plan.warnings.empty());
  }
  SECTION("a server that cannot is told once, with both accounts and the way out") {
    observed.cannot_suspend = "no suspend API";
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(plan.empty());
    REQUIRE(plan.warnings.size() == 1);
    CHECK(plan.warnings[0].starts_with("cannot suspend @alice:example.org, @bob:example.org: no suspend API."));
    CHECK(plan.warnings[0].find("deactivatedAccounts: deactivate") != std::string::npos);
  }
  SECTION("reactivation does not depend on it") {
    observed.cannot_suspend = "no suspend API";
    observed.accounts["alice"].status = model::AccountStatus::suspended;
    desired.accounts["alice"].status = model::AccountStatus::active;
    desired.accounts["bob"].status = model::AccountStatus::active;
    model::Plan plan = model::diff(desired, observed, options());
    CHECK(descriptions(plan) == std::vector<std::string>{"reactivate account alice"});
    CHECK(plan.warnings.empty());
  }
}

TEST_CASE("diff: field values stay typed, and each write carries the field changes it makes", "[diff]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  model::Room& council = desired.rooms["council/disputes"];
  council.join_rule = model::JoinRule::restricted;
  council.allow_spaces = {"community/river"};
  council.archived_at = 1'780'000'000'000;
  council.power_levels.ban = 75;
  council.power_levels.users.erase("@alice:example.org");
  observed.rooms["council/disputes"].members["@carol:example.org"] = {model::Membership::join, false};
  model::Plan plan = model::diff(desired, observed, options());

  const model::FieldChange join_rule{"join_rule", model::JoinRuleValue{model::JoinRule::invite, {}},
                                     model::JoinRuleValue{model::JoinRule::restricted, {"community/river"}}};
  const model::FieldChange archived_at{"archived_at", std::nullopt, model::DayValue{1'780'000'000'000}};
  const model::FieldChange ban{"power_levels.ban", std::int64_t{50}, std::int64_t{75}};
  const model::FieldChange alice{"power_levels.users[\"@alice:example.org\"]", std::int64_t{50}, std::nullopt};
  const model::FieldChange carol{"members[\"@carol:example.org\"]", model::WordValue{"join"}, std::nullopt};
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].fields == std::vector<model::FieldChange>{join_rule, archived_at, ban, alice, carol});

  CHECK(find_op(plan, "set m.room.join_rules in council/disputes").fields ==
        std::vector<model::FieldChange>{join_rule});
  CHECK(find_op(plan, "set m.room.power_levels in council/disputes").fields ==
        std::vector<model::FieldChange>{ban, alice});
  CHECK(find_op(plan, "kick @carol:example.org from council/disputes").fields.empty());
}

TEST_CASE("diff: a room upgraded to one mxctl is not in is joined, never re-created", "[diff][upgrade]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  observed.rooms.erase("council/disputes");
  observed.upgraded["council/disputes"] = {"!council/disputes:example.org", "!new:example.org"};

  model::Plan plan = model::diff(desired, observed, options());
  CHECK(descriptions(plan) ==
        std::vector<std::string>{"join !new:example.org, the replacement of council/disputes"});
  REQUIRE(plan.changes.size() == 1);
  CHECK(plan.changes[0].action == model::ResourceChange::Action::update);
  CHECK(plan.operations[0].room_id == "!new:example.org");
  CHECK(plan.changes[0].reason.find("was upgraded to !new:example.org") != std::string::npos);

  SECTION("a replacement mxctl is in that does not name the old room is an error, not joined again") {
    observed.upgraded["council/disputes"].disowned = true;
    model::Plan refused = model::diff(desired, observed, options());
    CHECK(refused.operations.empty());
    REQUIRE(refused.changes.size() == 1);
    CHECK(refused.changes[0].action == model::ResourceChange::Action::error);
    CHECK(refused.changes[0].reason.find("does not name it as its predecessor") != std::string::npos);
  }
  SECTION("a tombstone naming no usable room is an error, with nothing done") {
    for (std::string replacement : {"", "new:example.org", "!has space:example.org"}) {
      observed.upgraded["council/disputes"].replacement_room = replacement;
      model::Plan refused = model::diff(desired, observed, options());
      CHECK(refused.operations.empty());
      REQUIRE(refused.changes.size() == 1);
      CHECK(refused.changes[0].action == model::ResourceChange::Action::error);
      CHECK(refused.changes[0].reason.find("names no replacement room") != std::string::npos);
    }
  }
}

TEST_CASE("diff: the replacement of an upgraded room gets the marker and what the upgrade left out",
          "[diff][upgrade]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  model::ObservedRoom& replacement = observed.rooms.at("council/disputes");
  replacement.room_id = "!new:example.org";
  replacement.predecessor = "!old:example.org";
  replacement.marker_missing = true;
  replacement.room.parent.reset();  // the homeserver does not copy it
  replacement.room.members.erase("@bob:example.org");
  replacement.members.erase("@bob:example.org");

  model::Plan plan = model::diff(desired, observed, options());
  std::vector<std::string> ops = descriptions(plan);
  CHECK(std::count(ops.begin(), ops.end(), "set org.mxctl.managed in council/disputes") == 1);
  CHECK(std::count(ops.begin(), ops.end(), "set m.space.parent in council/disputes (community/river)") == 1);
  CHECK(std::count(ops.begin(), ops.end(), "invite @bob:example.org to council/disputes") == 1);
  CHECK(find_op(plan, "set org.mxctl.managed in council/disputes").reason.find("replaces upgraded room !old") !=
        std::string::npos);

  SECTION("one marker write even when the protection differs too") {
    desired.rooms.at("council/disputes").protect = true;
    std::vector<std::string> protected_ops = descriptions(model::diff(desired, observed, options()));
    CHECK(std::count(protected_ops.begin(), protected_ops.end(), "set org.mxctl.managed in council/disputes") == 1);
  }
}

TEST_CASE("diff: an older room version is upgraded only when asked to", "[diff][upgrade]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  observed.rooms.at("council/disputes").room.room_version = "9";
  observed.rooms.at("council/disputes").room.name = "renamed by hand";

  model::Plan warned = model::diff(desired, observed, options());
  CHECK(descriptions(warned) == std::vector<std::string>{"set m.room.name in council/disputes"});
  REQUIRE(warned.warnings.size() == 1);
  CHECK(warned.warnings[0].find("council/disputes") != std::string::npos);
  CHECK(warned.warnings[0].find("--upgrade-rooms") != std::string::npos);

  model::DiffOptions upgrading = options();
  upgrading.upgrade_rooms = true;
  model::Plan plan = model::diff(desired, observed, upgrading);
  // Nothing else is written to the old room: the next pass reads the new one.
  REQUIRE(descriptions(plan) ==
          std::vector<std::string>{"upgrade room council/disputes", "set org.mxctl.managed in council/disputes"});
  CHECK(plan.operations[1].depends_on == std::vector<std::size_t>{0});
  REQUIRE(plan.changes.size() == 1);
  REQUIRE(plan.changes[0].fields.size() == 1);
  CHECK(plan.changes[0].fields[0].name == "room_version");
  CHECK(plan.warnings.empty());

  SECTION("a newer or non-numeric version is never taken for older") {
    for (std::string version : {"11", "org.example.v42", ""}) {
      observed.rooms.at("council/disputes").room.room_version = version;
      model::Plan left = model::diff(desired, observed, upgrading);
      CHECK(descriptions(left) == std::vector<std::string>{"set m.room.name in council/disputes"});
    }
  }
}

TEST_CASE("diff: a space's link to a room an upgrade replaced is withdrawn", "[diff][upgrade]") {
  model::MatrixState desired = desired_state();
  model::ObservedState observed = converged(desired);
  observed.retired_rooms.insert("!old-general:example.org");
  observed.rooms.at("community/river").room.children.push_back({"!old-general:example.org", {"example.org"}, true});

  model::Plan plan = model::diff(desired, observed, options());
  REQUIRE(descriptions(plan) == std::vector<std::string>{"withdraw m.space.child !old-general:example.org (an "
                                                         "upgraded room) from community/river"});
  CHECK(plan.operations[0].field == model::StateField::retired_child);
  CHECK(plan.operations[0].room_id == "!old-general:example.org");

  SECTION("a link to a room that was not ours is left alone") {
    observed.retired_rooms.clear();
    CHECK(model::diff(desired, observed, options()).empty());
  }
}

}  // namespace diff_test

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controller/render_plan.h"
#include "model/diff.h"

namespace render_plan_test {

namespace {

model::Plan sample_plan() {
  model::Plan plan;
  model::Operation create;
  create.kind = model::Operation::Kind::create_account;
  create.account_key = "alice";
  create.reason = "@alice:example.org does not exist on the homeserver";
  model::Operation rename;
  rename.kind = model::Operation::Kind::set_state;
  rename.room_key = "community/river";
  rename.field = model::StateField::name;
  rename.reason = "the name differs";
  model::Operation invite;
  invite.kind = model::Operation::Kind::invite;
  invite.room_key = "community/river";
  invite.user_id = "@alice:example.org";
  invite.depends_on = {0};
  invite.reason = "@alice:example.org is a member in the desired state";
  plan.operations = {create, rename, invite};
  plan.changes = {
      {"account.alice",
       model::ResourceChange::Action::create,
       {{"user_id", std::nullopt, model::TextValue{"@alice:example.org"}}, {"admin", std::nullopt, false}},
       "@alice:example.org does not exist on the homeserver",
       {0}},
      {"room.community/river",
       model::ResourceChange::Action::update,
       {{"name", model::TextValue{"River"}, model::TextValue{"River Commons"}},
        {"members[\"@alice:example.org\"]", std::nullopt, model::WordValue{"invited"}}},
       "differs from the desired state",
       {1, 2}},
      {"room.council/x",
       model::ResourceChange::Action::error,
       {{"encrypted", true, false}},
       "room !x:example.org is encrypted; encryption cannot be turned off once on",
       {}},
  };
  return plan;
}

}  // namespace

TEST_CASE("render plan: terraform-style text", "[render]") {
  const std::string expected = R"(mxctl will perform the following actions:

  # account.alice will be created
  + account.alice {
      + user_id = "@alice:example.org"
      + admin   = false
    }

  # room.community/river will be updated in-place
  ~ room.community/river {
      ~ name                          = "River" -> "River Commons"
      + members["@alice:example.org"] = invited
    }

  # room.council/x cannot be changed as desired
  # (because room !x:example.org is encrypted; encryption cannot be turned off once on)
  ! room.council/x {
      ~ encrypted = true -> false
    }

Plan: 1 to add, 1 to change, 0 to destroy, 1 error.
)";
  CHECK(controller::render_plan_text(sample_plan(), {}) == expected);
}

TEST_CASE("render plan: --explain adds reasons for changes and operations", "[render]") {
  std::string text = controller::render_plan_text(sample_plan(), {true});
  CHECK(text.find("  # (because differs from the desired state)\n") != std::string::npos);
  CHECK(text.find("      # invite @alice:example.org to community/river: @alice:example.org is a member in the "
                  "desired state\n") != std::string::npos);
}

TEST_CASE("render plan: an empty plan says so", "[render]") {
  CHECK(controller::render_plan_text(model::Plan{}, {}) ==
        "No changes. The homeserver matches the desired state.\n");
  CHECK(controller::render_plan_markdown(model::Plan{}, {}).find("No changes.") != std::string::npos);
}

TEST_CASE("render plan: json is versioned with typed values", "[render]") {
  nlohmann::json plan = nlohmann::json::parse(controller::render_plan_json(sample_plan()));
  CHECK(plan["format_version"] == "1");
  REQUIRE(plan["changes"].size() == 3);
  CHECK(plan["changes"][0]["address"] == "account.alice");
  CHECK(plan["changes"][0]["actions"] == nlohmann::json::array({"create"}));
  CHECK(plan["changes"][0]["before"].is_null());
  CHECK(plan["changes"][0]["after"]["admin"] == false);
  CHECK(plan["changes"][1]["before"]["name"] == "River");
  CHECK(plan["changes"][1]["after"]["name"] == "River Commons");
  CHECK(plan["changes"][1]["after"]["members[\"@alice:example.org\"]"] == "invited");
  CHECK(plan["operations"][2]["depends_on"] == nlohmann::json::array({0}));
  CHECK(plan["summary"] == nlohmann::json({{"add", 1},
                                                  {"change", 1},
                                                  {"archive", 0},
                                                  {"restore", 0},
                                                  {"suspend", 0},
                                                  {"destroy", 0},
                                                  {"error", 1}}));
}

TEST_CASE("render plan: json gives each kind of value its JSON form, else the text the plan shows", "[render]") {
  model::Plan plan;
  plan.operations.resize(1);
  plan.changes = {{"room.community/river",
                   model::ResourceChange::Action::update,
                   {{"name", model::TextValue{"River \"Commons\""}, model::TextValue{"42"}},
                    {"topic", model::TextValue{"two\nlines"}, model::TextValue{"bad \xff byte"}},
                    {"power_levels.ban", std::int64_t{50}, std::int64_t{-1}},
                    {"encrypted", false, true},
                    {"members[\"@a:x\"]", model::WordValue{"join"}, std::nullopt},
                    {"archived_at", std::nullopt, model::DayValue{1'780'000'000'000}},
                    {"join_rule", model::JoinRuleValue{model::JoinRule::invite, {}},
                     model::JoinRuleValue{model::JoinRule::restricted, {"!s:x"}}}},
                   "differs from the desired state",
                   {0}}};
  nlohmann::json json = nlohmann::json::parse(controller::render_plan_json(plan));
  const nlohmann::json& before = json["changes"][0]["before"];
  const nlohmann::json& after = json["changes"][0]["after"];
  CHECK(before["name"] == "River \"Commons\"");
  CHECK(after["name"] == "42");
  // Text a JSON string cannot hold as it is keeps its quoted plan form.
  CHECK(before["topic"] == "\"two\nlines\"");
  CHECK(after["topic"] == "\"bad \xef\xbf\xbd byte\"");
  CHECK(before["power_levels.ban"] == 50);
  CHECK(after["power_levels.ban"] == -1);
  CHECK(before["encrypted"] == false);
  CHECK(after["encrypted"] == true);
  CHECK(before["members[\"@a:x\"]"] == "join");
  CHECK_FALSE(after.contains("members[\"@a:x\"]"));
  CHECK(after["archived_at"] == "2026-05-28");
  CHECK(before["join_rule"] == "invite");
  CHECK(after["join_rule"] == "\"restricted\" allow [\"!s:x\"]");
}

TEST_CASE("render plan: markdown has the summary and a table", "[render]") {
  std::string md = controller::render_plan_markdown(sample_plan(), {});
  CHECK(md.rfind("### mxctl plan\n\n**Plan: 1 to add, 1 to change, 0 to destroy, 1 error.**\n", 0) == 0);
  CHECK(md.find("| `~` | `room.community/river` | differs from the desired state |") != std::string::npos);
  CHECK(md.find("```diff\n") != std::string::npos);
}

TEST_CASE("render plan: lifecycle changes say what happens and why", "[render]") {
  model::Plan plan;
  model::Operation archive;
  archive.kind = model::Operation::Kind::set_state;
  archive.room_key = "community/old";
  archive.field = model::StateField::name;
  model::Operation drop;
  drop.kind = model::Operation::Kind::delete_room;
  drop.room_key = "community/gone";
  model::Operation suspend;
  suspend.kind = model::Operation::Kind::suspend_account;
  suspend.account_key = "oscar";
  plan.operations = {archive, drop, suspend};
  plan.changes = {
      {"room.community/old",
       model::ResourceChange::Action::archive,
       {{"name", model::TextValue{"Old"}, model::TextValue{"Old (archived)"}},
        {"deleted_on", std::nullopt, model::TextValue{"2026-03-02"}}},
       "it is no longer in the desired state; it will be deleted on 2026-03-02 unless it comes back before",
       {0}},
      {"room.community/gone",
       model::ResourceChange::Action::destroy,
       {{"room_id", model::TextValue{"!gone:example.org"}, std::nullopt}},
       "archived on 2026-01-01, grace period of 60 days ended on 2026-03-02",
       {1}},
      {"account.oscar",
       model::ResourceChange::Action::suspend,
       {{"status", model::TextValue{"active"}, model::TextValue{"suspended"}}},
       "@oscar:example.org is deactivated",
       {2}},
  };
  const std::string expected = R"plan(mxctl will perform the following actions:

  # room.community/old will be archived
  # (because it is no longer in the desired state; it will be deleted on 2026-03-02 unless it comes back before)
  ~ room.community/old {
      ~ name       = "Old" -> "Old (archived)"
      + deleted_on = "2026-03-02"
    }

  # room.community/gone will be destroyed
  # (because archived on 2026-01-01, grace period of 60 days ended on 2026-03-02)
  - room.community/gone {
      - room_id = "!gone:example.org"
    }

  # account.oscar will be suspended
  # (because @oscar:example.org is deactivated)
  ~ account.oscar {
      ~ status = "active" -> "suspended"
    }

Plan: 0 to add, 2 to change, 1 to destroy (1 to archive, 1 to suspend).
)plan";
  CHECK(controller::render_plan_text(plan, {}) == expected);
  nlohmann::json json = nlohmann::json::parse(controller::render_plan_json(plan));
  CHECK(json["changes"][0]["actions"] == nlohmann::json::array({"archive"}));
  CHECK(json["changes"][1]["actions"] == nlohmann::json::array({"delete"}));
  CHECK(json["changes"][2]["actions"] == nlohmann::json::array({"suspend"}));
  CHECK(json["summary"]["destroy"] == 1);
  CHECK(json["summary"]["archive"] == 1);
  CHECK(json["summary"]["suspend"] == 1);
}

TEST_CASE("render plan: warnings follow the plan in every format, and only when there are any", "[render]") {
  model::Plan plan;
  CHECK(nlohmann::json::parse(controller::render_plan_json(plan)).contains("warnings") == false);
  plan.warnings.push_back("cannot suspend @a:x: no way to");
  CHECK(controller::render_plan_text(plan, {}) ==
        "No changes. The homeserver matches the desired state.\n\nWarning: cannot suspend @a:x: no way to\n");
  CHECK(nlohmann::json::parse(controller::render_plan_json(plan))["warnings"] ==
        nlohmann::json::array({"cannot suspend @a:x: no way to"}));
  CHECK(controller::render_plan_markdown(plan, {}).find("> **Warning:** cannot suspend @a:x: no way to") !=
        std::string::npos);
}

namespace {

// A room the server shows under a hostile name and topic: what a plan prints
// of it is the diff's before values, straight from the homeserver.
model::Plan plan_against_hostile_room() {
  model::Room want;
  want.key = "community/river";
  want.alias = "#mxctl.community.river:example.org";
  want.name = "River";
  want.topic = "Our river";
  model::ObservedRoom have;
  have.room_id = "!r:example.org";
  have.marker_key = want.key;
  have.room = want;
  have.room.name = "River\x1b[2J\x1b]0;pwned\x07\nfake line\xc2\x9b";
  have.room.topic = "topic\xe2\x80\xae\xff";
  model::MatrixState desired;
  desired.rooms[want.key] = want;
  model::ObservedState observed;
  observed.rooms[want.key] = have;
  return model::diff(desired, observed, {});
}

}  // namespace

TEST_CASE("render plan: control characters from the server are printed escaped in every format", "[render]") {
  const model::Plan plan = plan_against_hostile_room();
  REQUIRE(plan.changes.size() == 1);
  const std::string text = controller::render_plan_text(plan, {true});
  CHECK(text.find("~ name  = \"River\\u001b[2J\\u001b]0;pwned\\u0007\\nfake line\\u009b\" -> \"River\"") !=
        std::string::npos);
  CHECK(text.find("~ topic = \"topic\\u202e\\xff\" -> \"Our river\"") != std::string::npos);
  const std::string markdown = controller::render_plan_markdown(plan, {});
  for (const std::string& out : {text, markdown}) {
    INFO(out);
    CHECK(out.find('\x1b') == std::string::npos);
    CHECK(out.find('\x07') == std::string::npos);
    CHECK(out.find("\xc2\x9b") == std::string::npos);
    CHECK(out.find("\xe2\x80\xae") == std::string::npos);
    CHECK(out.find("\nfake line") == std::string::npos);
  }
  // JSON escapes by itself; bytes that are not UTF-8 are replaced, not thrown on.
  const std::string json_text = controller::render_plan_json(plan);
  CHECK(json_text.find('\x1b') == std::string::npos);
  nlohmann::json json = nlohmann::json::parse(json_text);
  CHECK(json["changes"][0]["before"]["topic"] == "\"topic\xe2\x80\xae\xef\xbf\xbd\"");
}

TEST_CASE("render plan: markdown table cells cannot open cells or HTML", "[render]") {
  model::Plan plan;
  plan.operations.resize(1);
  plan.changes = {{"room.dm/x", model::ResourceChange::Action::update, {}, "@evil|<img src=x>:example.org left", {0}}};
  const std::string md = controller::render_plan_markdown(plan, {});
  CHECK(md.find("| `~` | `room.dm/x` | @evil\\|&lt;img src=x&gt;:example.org left |") != std::string::npos);
}

}  // namespace render_plan_test

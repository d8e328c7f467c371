// How plan values read as text: in the plan and in the audit log. The plan
// output and the audit log's columns are read by people and scripts, so each
// kind of value keeps the exact form it has always had.

#include "controller/field_text.h"

#include <catch2/catch.hpp>

namespace field_text_test {

namespace {

const std::int64_t k_day = 1'780'000'000'000;  // 2026-05-28T20:26:40Z

model::Operation operation(model::Operation::Kind kind, std::vector<model::FieldChange> fields) {
  model::Operation op;
  op.kind = kind;
  op.fields = std::move(fields);
  return op;
}

}  // namespace

TEST_CASE("field text: each kind of value reads as the plan has always shown it", "[field_text]") {
  using controller::field_value_text;
  CHECK(field_value_text(model::TextValue{"River \"Commons\" \\ co"}) == R"("River \"Commons\" \\ co")");
  CHECK(field_value_text(model::TextValue{""}) == R"("")");
  CHECK(field_value_text(model::WordValue{"invited"}) == "invited");
  CHECK(field_value_text(std::int64_t{-5}) == "-5");
  CHECK(field_value_text(true) == "true");
  CHECK(field_value_text(false) == "false");
  CHECK(field_value_text(model::DayValue{k_day}) == "2026-05-28");
  CHECK(field_value_text(model::JoinRuleValue{model::JoinRule::public_, {}}) == R"("public")");
  CHECK(field_value_text(model::JoinRuleValue{model::JoinRule::restricted, {"!s:x", "a\"b"}}) ==
        R"("restricted" allow ["!s:x", "a\"b"])");
  CHECK(field_value_text(model::JoinRuleValue{model::JoinRule::restricted, {}}) == R"("restricted" allow [])");
}

TEST_CASE("field text: the audit log keeps a written field as the plan shows it", "[field_text]") {
  model::Operation rename = operation(model::Operation::Kind::set_state,
                                      {{"name", model::TextValue{"Old"}, model::TextValue{"New \"one\""}}});
  rename.field = model::StateField::name;
  CHECK(controller::audit_values(rename) == std::pair<std::string, std::string>{R"("Old")", R"("New \"one\"")"});

  model::Operation link =
      operation(model::Operation::Kind::set_state, {{"children[\"a\"]", std::nullopt, model::WordValue{"linked"}}});
  link.field = model::StateField::space_child;
  CHECK(controller::audit_values(link) == std::pair<std::string, std::string>{"", "linked"});

  model::Operation restore =
      operation(model::Operation::Kind::set_state, {{"archived_at", model::DayValue{k_day}, std::nullopt}});
  restore.field = model::StateField::archive_record;
  CHECK(controller::audit_values(restore) == std::pair<std::string, std::string>{"2026-05-28", ""});
}

TEST_CASE("field text: the audit log lists every power level that changed", "[field_text]") {
  model::Operation levels =
      operation(model::Operation::Kind::set_state, {{"power_levels.ban", std::int64_t{50}, std::int64_t{60}},
                                                    {"power_levels.users[\"@a:x\"]", std::nullopt, std::int64_t{25}},
                                                    {"power_levels.users[\"@b:x\"]", std::int64_t{10}, std::nullopt}});
  levels.field = model::StateField::power_levels;
  CHECK(controller::audit_values(levels) ==
        std::pair<std::string, std::string>{
            R"(power_levels.ban=50, power_levels.users["@a:x"]=none, power_levels.users["@b:x"]=10)",
            R"(power_levels.ban=60, power_levels.users["@a:x"]=25, power_levels.users["@b:x"]=none)"});
}

TEST_CASE("field text: the audit log keeps a status and a deleted room's id bare", "[field_text]") {
  auto suspend = operation(model::Operation::Kind::suspend_account,
                           {{"status", model::TextValue{"active"}, model::TextValue{"suspended"}}});
  CHECK(controller::audit_values(suspend) == std::pair<std::string, std::string>{"active", "suspended"});
  auto drop = operation(model::Operation::Kind::delete_room,
                        {{"room_id", model::TextValue{"!gone:example.org"}, std::nullopt}});
  CHECK(controller::audit_values(drop) == std::pair<std::string, std::string>{"!gone:example.org", ""});
  CHECK(controller::audit_values(operation(model::Operation::Kind::create_room, {})) ==
        std::pair<std::string, std::string>{"", ""});
}

}  // namespace field_text_test

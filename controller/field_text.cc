#include "controller/field_text.h"

#include "model/diff.h"

namespace controller {

namespace {

std::string quote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string join_rule_text(const model::JoinRuleValue& value) {
  std::string text = quote(model::to_string(value.rule));
  if (value.rule == model::JoinRule::restricted) {
    text += " allow [";
    for (std::size_t i = 0; i < value.allow_spaces.size(); ++i) {
      text += (i == 0 ? "" : ", ") + quote(value.allow_spaces[i]);
    }
    text += "]";
  }
  return text;
}

// Text as it is, without the plan's quotes; other values as the plan shows them.
std::string plain_text(const model::FieldValue& value) {
  if (const auto* text = std::get_if<model::TextValue>(&value)) {
    return text->text;
  }
  return field_value_text(value);
}

}  // namespace

std::string field_value_text(const model::FieldValue& value) {
  struct Writer {
    std::string operator()(const model::TextValue& text) const { return quote(text.text); }
    std::string operator()(const model::WordValue& word) const { return word.word; }
    std::string operator()(std::int64_t number) const { return std::to_string(number); }
    std::string operator()(bool flag) const { return flag ? "true" : "false"; }
    std::string operator()(const model::DayValue& day) const { return model::date_text(day.ms_since_epoch); }
    std::string operator()(const model::JoinRuleValue& rule) const { return join_rule_text(rule); }
  };
  return std::visit(Writer{}, value);
}

std::pair<std::string, std::string> audit_values(const model::Operation& operation) {
  using Kind = model::Operation::Kind;
  if (operation.kind == Kind::set_state && operation.field == model::StateField::power_levels) {
    std::string before;
    std::string after;
    for (const model::FieldChange& field : operation.fields) {
      before += (before.empty() ? "" : ", ") + field.name + "=" +
                (field.before ? field_value_text(*field.before) : std::string("none"));
      after += (after.empty() ? "" : ", ") + field.name + "=" +
               (field.after ? field_value_text(*field.after) : std::string("none"));
    }
    return {before, after};
  }
  if (operation.kind == Kind::create_room && !operation.invitees.empty()) {
    std::string invited = "invited ";
    for (const std::string& user : operation.invitees) {
      invited += (&user == &operation.invitees.front() ? "" : ", ") + user;
    }
    return {"", invited};
  }
  if (operation.fields.empty()) {
    return {};
  }
  // A written state field reads as in the plan; a status or an id is a fact
  // the audit log keeps bare.
  const model::FieldChange& field = operation.fields.back();
  auto written = operation.kind == Kind::set_state ? field_value_text : plain_text;
  return {field.before ? written(*field.before) : std::string(), field.after ? written(*field.after) : std::string()};
}

}  // namespace controller

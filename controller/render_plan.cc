#include "controller/render_plan.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "controller/field_text.h"
#include "model/diff.h"
#include "model/printable.h"

namespace controller {

namespace {

using Action = model::ResourceChange::Action;

const char* k_no_changes = "No changes. The homeserver matches the desired state.";

// Every value, address and reason in a plan may come from the homeserver or
// the input as it was: printed, control characters would drive the terminal.
std::string shown(std::string_view text) { return model::printable(text); }

// A markdown table cell: also no "|" (a new cell) or "<" (HTML).
std::string table_cell(std::string_view text) {
  std::string out;
  for (char c : shown(text)) {
    switch (c) {
      case '|': out += "\\|"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* symbol(Action action) {
  switch (action) {
    case Action::create: return "+";
    case Action::update:
    case Action::archive:
    case Action::restore:
    case Action::suspend: return "~";
    case Action::destroy: return "-";
    case Action::error: return "!";
  }
  return "?";
}

std::string headline(const model::ResourceChange& change) {
  const std::string address = shown(change.address);
  switch (change.action) {
    case Action::create: return "# " + address + " will be created";
    case Action::update: return "# " + address + " will be updated in-place";
    case Action::archive: return "# " + address + " will be archived";
    case Action::restore: return "# " + address + " will be restored";
    case Action::suspend: return "# " + address + " will be suspended";
    case Action::destroy: return "# " + address + " will be destroyed";
    case Action::error: return "# " + address + " cannot be changed as desired";
  }
  return "";
}

std::string field_line(const model::FieldChange& field, std::size_t width) {
  std::string name = shown(field.name);
  name += std::string(width - std::min(width, name.size()), ' ');
  if (!field.before) {
    return "+ " + name + " = " + (field.after ? shown(field_value_text(*field.after)) : std::string());
  }
  if (!field.after) {
    return "- " + name + " = " + shown(field_value_text(*field.before));
  }
  return "~ " + name + " = " + shown(field_value_text(*field.before)) + " -> " +
         shown(field_value_text(*field.after));
}

void write_change(std::ostream& out, const model::Plan& plan, const model::ResourceChange& change,
                  const RenderOptions& options) {
  out << "  " << headline(change) << "\n";
  // Lifecycle changes always say why: that is what a reviewer checks.
  if (change.action != Action::create && change.action != Action::update) {
    out << "  # (because " << shown(change.reason) << ")\n";
  } else if (options.explain) {
    out << "  # (because " << shown(change.reason) << ")\n";
  }
  out << "  " << symbol(change.action) << " " << shown(change.address);
  if (change.fields.empty() && !options.explain) {
    out << "\n\n";
    return;
  }
  out << " {\n";
  std::size_t width = 0;
  for (const model::FieldChange& field : change.fields) {
    width = std::max(width, shown(field.name).size());
  }
  for (const model::FieldChange& field : change.fields) {
    out << "      " << field_line(field, width) << "\n";
  }
  if (options.explain) {
    for (std::size_t index : change.operations) {
      const model::Operation& op = plan.operations[index];
      out << "      # " << shown(model::describe(op)) << ": " << shown(op.reason) << "\n";
    }
  }
  out << "    }\n\n";
}

const char* action_name(Action action) {
  switch (action) {
    case Action::create: return "create";
    case Action::update: return "update";
    case Action::archive: return "archive";
    case Action::restore: return "restore";
    case Action::suspend: return "suspend";
    case Action::destroy: return "delete";
    case Action::error: return "error";
  }
  return "unknown";
}

// Whether a JSON string holds `text` as it is: no control characters, and
// UTF-8 (which dump() checks).
bool json_holds(const std::string& text) {
  for (unsigned char c : text) {
    if (c < 0x20) {
      return false;
    }
  }
  try {
    (void)nlohmann::json(text).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// Values are JSON values where JSON has one ("Alice", 25, true); words,
// days and restricted join rules are strings as the plan shows them. Text
// JSON cannot hold as it is keeps its quoted plan form, as it always has.
nlohmann::json value_json(const model::FieldValue& value) {
  struct Writer {
    nlohmann::json operator()(const model::TextValue& text) const {
      return json_holds(text.text) ? nlohmann::json(text.text) : nlohmann::json(field_value_text(text));
    }
    nlohmann::json operator()(const model::WordValue& word) const { return word.word; }
    nlohmann::json operator()(std::int64_t number) const { return number; }
    nlohmann::json operator()(bool flag) const { return flag; }
    nlohmann::json operator()(const model::DayValue& day) const { return model::date_text(day.ms_since_epoch); }
    nlohmann::json operator()(const model::JoinRuleValue& rule) const {
      return rule.rule == model::JoinRule::restricted ? field_value_text(rule) : model::to_string(rule.rule);
    }
  };
  return std::visit(Writer{}, value);
}

}  // namespace

std::string plan_summary(const model::Plan& plan) {
  std::ostringstream out;
  const std::size_t lifecycle[] = {plan.count(Action::archive), plan.count(Action::restore),
                                   plan.count(Action::suspend)};
  const char* lifecycle_names[] = {" to archive", " to restore", " to suspend"};
  out << "Plan: " << plan.count(Action::create) << " to add, "
      << plan.count(Action::update) + lifecycle[0] + lifecycle[1] + lifecycle[2] << " to change, "
      << plan.count(Action::destroy) << " to destroy";
  std::string including;
  for (std::size_t i = 0; i < 3; ++i) {
    if (lifecycle[i] > 0) {
      including += (including.empty() ? "" : ", ") + std::to_string(lifecycle[i]) + lifecycle_names[i];
    }
  }
  if (!including.empty()) {
    out << " (" << including << ")";
  }
  std::size_t errors = plan.error_count();
  if (errors > 0) {
    out << ", " << errors << (errors == 1 ? " error" : " errors");
  }
  out << ".";
  return out.str();
}

void write_plan_text(std::ostream& out, const model::Plan& plan, const RenderOptions& options) {
  if (plan.empty()) {
    out << k_no_changes << "\n";
  } else {
    out << "mxctl will perform the following actions:\n\n";
    for (const model::ResourceChange& change : plan.changes) {
      write_change(out, plan, change, options);
    }
    out << plan_summary(plan) << "\n";
  }
  for (const std::string& warning : plan.warnings) {
    out << "\nWarning: " << shown(warning) << "\n";
  }
}

std::string render_plan_text(const model::Plan& plan, const RenderOptions& options) {
  std::ostringstream out;
  write_plan_text(out, plan, options);
  return out.str();
}

std::string render_plan_json(const model::Plan& plan) {
  nlohmann::json changes = nlohmann::json::array();
  for (const model::ResourceChange& change : plan.changes) {
    nlohmann::json before = nlohmann::json::object();
    nlohmann::json after = nlohmann::json::object();
    for (const model::FieldChange& field : change.fields) {
      if (field.before) {
        before[field.name] = value_json(*field.before);
      }
      if (field.after) {
        after[field.name] = value_json(*field.after);
      }
    }
    changes.push_back({{"address", change.address},
                       {"actions", {action_name(change.action)}},
                       {"reason", change.reason},
                       {"before", change.action == Action::create ? nlohmann::json(nullptr) : before},
                       {"after", after},
                       {"operations", change.operations}});
  }
  nlohmann::json operations = nlohmann::json::array();
  for (std::size_t i = 0; i < plan.operations.size(); ++i) {
    const model::Operation& op = plan.operations[i];
    operations.push_back(
        {{"index", i}, {"description", model::describe(op)}, {"depends_on", op.depends_on}, {"reason", op.reason}});
  }
  nlohmann::json out = {
      {"format_version", "1"},
      {"changes", changes},
      {"operations", operations},
      {"summary",
       {{"add", plan.count(Action::create)},
        {"change", plan.count(Action::update) + plan.count(Action::archive) + plan.count(Action::restore) +
                       plan.count(Action::suspend)},
        {"archive", plan.count(Action::archive)},
        {"restore", plan.count(Action::restore)},
        {"suspend", plan.count(Action::suspend)},
        {"destroy", plan.count(Action::destroy)},
        {"error", plan.error_count()}}},
  };
  // Only when there are any, so that plans saved before warnings existed
  // still compare equal.
  if (!plan.warnings.empty()) {
    out["warnings"] = plan.warnings;
  }
  // Escaped by the JSON library; text that is not UTF-8 (from a server that
  // sent it) is replaced rather than thrown on.
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_plan_markdown(const model::Plan& plan, const RenderOptions& options) {
  std::ostringstream out;
  std::string warnings;
  for (const std::string& warning : plan.warnings) {
    warnings += "\n> **Warning:** " + table_cell(warning) + "\n";
  }
  if (plan.empty()) {
    out << "### mxctl plan: no changes\n\n" << k_no_changes << "\n" << warnings;
    return out.str();
  }
  out << "### mxctl plan\n\n**" << plan_summary(plan) << "**\n\n";
  out << "| | resource | why |\n|---|---|---|\n";
  for (const model::ResourceChange& change : plan.changes) {
    out << "| `" << symbol(change.action) << "` | `" << table_cell(change.address) << "` | " << table_cell(change.reason)
        << " |\n";
  }
  out << warnings;
  out << "\n<details><summary>Details</summary>\n\n```diff\n" << render_plan_text(plan, options) << "```\n\n</details>\n";
  return out.str();
}

}  // namespace controller

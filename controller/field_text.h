#pragma once
// How a plan's values read as text: in the plan itself (text and markdown,
// and JSON for values without a JSON form of their own) and in the audit
// log. The one place that decides how a model::FieldValue is written.

#include <string>
#include <utility>

#include "model/plan.h"

namespace controller {

/// `value` as the plan shows it: text quoted, with `"` and `\` escaped
/// ("River \"Commons\""); words, integers and flags as they are; a day as
/// 2026-05-28; a join rule as "invite", or "restricted" allow ["!s:x"].
/// Not yet made printable (model::printable).
std::string field_value_text(const model::FieldValue& value);

/// What the audit log records as `operation`'s before and after: a state
/// field as the plan shows it; power levels as "name=value, ..." for every
/// level that changed ("none" where there is no level); an account's status
/// and a deleted room's id as plain text; a created room's own invites as
/// "invited @a:x, @b:x". Empty where there is nothing.
std::pair<std::string, std::string> audit_values(const model::Operation& operation);

}  // namespace controller

#pragma once
// A value in a plan's field change. It stays a value (text, a number, a flag,
// a day, a join rule) until controller/ formats it for a terminal, JSON or
// the audit log, so that no layer parses displayed text back into values.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "model/matrix_state.h"

namespace model {

/// Text from the desired state or the homeserver: a name, a topic, an id.
struct TextValue {
  std::string text;
  bool operator==(const TextValue&) const = default;
};

/// A state the plan names in a word of its own ("invited", "linked",
/// "listed") or a membership ("join").
struct WordValue {
  std::string word;
  bool operator==(const WordValue&) const = default;
};

/// A calendar day (UTC), as the time in ms since the epoch that falls on it.
struct DayValue {
  std::int64_t ms_since_epoch = 0;
  bool operator==(const DayValue&) const = default;
};

/// A join rule and, for `restricted` only, the spaces whose members may join.
struct JoinRuleValue {
  JoinRule rule = JoinRule::invite;
  std::vector<std::string> allow_spaces;
  bool operator==(const JoinRuleValue&) const = default;
};

/// One side of a field change: text, a word, an integer (power levels), a
/// flag, a day or a join rule.
using FieldValue = std::variant<TextValue, WordValue, std::int64_t, bool, DayValue, JoinRuleValue>;

}  // namespace model

#pragma once
// "Did you mean" suggestions for misspelt names (fields, kinds, keys).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace model {

/// Levenshtein edit distance between `a` and `b` (insert, delete, substitute).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, if it is close enough to be a plausible
/// typo: at most a third of the longer word's length in edits (at least 1, so
/// "nmae" finds "name"), ties broken by candidate order. Comparison ignores
/// case. Nothing when no candidate qualifies.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// `" (did you mean \"x\"?)"` when a close candidate exists, else "".
/// Meant to be appended to an "unknown ..." message.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace model

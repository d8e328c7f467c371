#pragma once
// Quoted scalars in the text, where yaml-cpp 0.7 misreads them: one that
// never closes swallows what follows (and yaml-cpp only says where the text
// ran out, not where the quote opened), and empty lines before a closing
// quote lose their line breaks.

#include <cstddef>
#include <optional>
#include <string_view>

namespace adapters::manifest_yaml {

/// Where the scalar starting at `pos` (its tag and anchor aside) opens a
/// quote that does not close in `text` (`''` and `\"` close nothing), or
/// nothing: yaml-cpp ends such a scalar at the end of its input.
std::optional<std::size_t> unclosed_quote(std::string_view text, std::size_t pos);

/// Where the closing quote is, if the quoted scalar starting at `pos` (its
/// tag and anchor aside) ends in empty lines that yaml-cpp would drop: it
/// keeps at most one line break of them (none when nothing else is in the
/// scalar), where YAML keeps one for each. Nothing otherwise.
std::optional<std::size_t> dropped_empty_lines(std::string_view text, std::size_t pos);

/// Where the quoted scalar that runs to the end of `text` was opened: the
/// first quote at `from` or later that starts a token (after a line's
/// indentation, `: `, `- `, `? `, `[`, `{`, `,`, a tag or an anchor) and is
/// never closed; `from` is where the last node read before it started.
/// Skips comments and quoted scalars that do close. Nothing when there is
/// no such quote.
std::optional<std::size_t> find_unclosed_quote(std::string_view text, std::size_t from);

}  // namespace adapters::manifest_yaml

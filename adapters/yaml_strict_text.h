#pragma once
// Text-level facts the tree needs to reject what yaml-cpp 0.7 accepts but
// YAML 1.2 does not: where a document may start without `---`, and where a
// quoted scalar that never closes was opened (yaml-cpp only says where the
// text ran out).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace adapters::manifest_yaml {

/// A problem at byte `pos` of a text.
struct TextSpot {
  std::size_t pos = 0;
  std::string message;
};

/// Why a document that starts at `pos` in `text` without `---` may not, and
/// where the problem is; nothing when it may. YAML 1.2 allows such a bare
/// document first in a stream (`first`) or after a `...` line, with only
/// comments in between; yaml-cpp starts a new document wherever the last
/// one's root ended (`a: 1` then `,`, a stray directive), reading a broken
/// text as something else.
std::optional<TextSpot> bare_document_problem(std::string_view text, std::size_t pos, bool first);

/// Where the quoted scalar that runs to the end of `text` was opened: the
/// first quote at `from` or later that starts a token (after a line's
/// indentation, `: `, `- `, `? `, `[`, `{`, `,`, a tag or an anchor) and is
/// never closed; `from` is where the last node read before it started.
/// Skips comments and quoted scalars that do close. Nothing when there is
/// no such quote.
std::optional<std::size_t> find_unclosed_quote(std::string_view text, std::size_t from);

}  // namespace adapters::manifest_yaml

#pragma once
// Text from the outside (manifests, the app database, the homeserver) on its
// way to a terminal or a review: what may not be printed as it is, and what
// a human-readable Matrix name may not contain. One list of dangerous
// characters serves both, so whatever validation lets through prints as it
// reads:
//   - C0 controls (U+0000-U+001F, ESC among them), DEL and C1 controls
//     (U+0080-U+009F): a terminal acts on them (clear the screen, move the
//     cursor, set the title);
//   - bidirectional embeddings, overrides and isolates (U+202A-U+202E,
//     U+2066-U+2069): they reorder what is shown, so "alice" can read as
//     another name;
//   - line and paragraph separators (U+2028, U+2029): line breaks to some
//     renderers;
//   - bytes that are not UTF-8: Matrix JSON is UTF-8 only, and half a
//     sequence can still be a C1 control to an 8-bit terminal.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace model {

/// `text` with every dangerous character escaped: "\n", "\t" and "\r" as
/// such, other code points as "\u001b" (JSON's form), bytes that are not
/// UTF-8 as "\xff". Everything else, backslashes included, is unchanged:
/// callers that quote escape quotes and backslashes first.
std::string printable(std::string_view text);

/// Why `text` is not acceptable as a human-readable name, topic or message
/// (not UTF-8, or a dangerous character, named with its code point), or
/// nothing when it is. `allow_line_breaks` accepts "\n" and "\t" (message
/// bodies keep their lines).
std::optional<std::string> check_plain_text(std::string_view text, bool allow_line_breaks = false);

/// Number of code points in `text` (what Synapse's length limits count);
/// each byte that is not part of valid UTF-8 counts as one.
std::size_t code_points(std::string_view text);

}  // namespace model

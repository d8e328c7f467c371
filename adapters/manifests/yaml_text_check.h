#pragma once
// The characters a manifest may hold. yaml-cpp 0.7 reads whatever bytes it
// is given: invalid UTF-8 and control characters pass into values (and fail
// much later, in the JSON library), and a lone CR is not a line break to it,
// so a file saved with old Mac line endings reads as one long comment. YAML
// 1.2 forbids all of these, so they are rejected before parsing.

#include <optional>
#include <string>
#include <string_view>

#include <yaml-cpp/mark.h>

namespace adapters::manifest_yaml {

/// UTF-8's byte order mark, which a manifest may carry at its very start only.
inline constexpr std::string_view k_byte_order_mark = "\xef\xbb\xbf";

/// YAML's white space and line breaks: what separates a comment's `#` or a
/// value's end from what came before.
inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// A character YAML 1.2 forbids, or one mxctl will not guess about.
struct TextProblem {
  /// 0-based, as yaml-cpp marks are; columns count bytes, as yaml-cpp's do.
  YAML::Mark mark;
  /// Lower case, no trailing period ("control character U+0007 is not allowed").
  std::string message;
};

/// The first problem in `text`, or nothing. Allowed: valid UTF-8 of YAML 1.2's
/// printable characters, tab, LF and CRLF, and a byte order mark at the very
/// start. Rejected besides what YAML 1.2 forbids: NEL, LS and PS (line breaks
/// in YAML 1.1, text in 1.2) and a byte order mark anywhere else.
std::optional<TextProblem> find_text_problem(std::string_view text);

}  // namespace adapters::manifest_yaml

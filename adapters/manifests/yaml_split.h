#pragma once
// A manifest file cut into its YAML documents before parsing: yaml-cpp gives
// up on a whole stream at its first syntax error, and one broken document
// must not hide the problems of the others.

#include <string_view>
#include <vector>

namespace adapters::manifest_yaml {

/// One YAML document's text (a view into its file's) and the 0-based line it
/// starts on in its file.
struct DocumentText {
  std::string_view text;
  int first_line = 0;
};

/// True when `line` (with or without its line break) is the document marker
/// `marker` ("---" or "..."): the marker at the very start, then nothing, a
/// blank or a line break, as YAML requires.
bool is_marker_line(std::string_view line, std::string_view marker);

/// `text` cut before each `---` line that follows content and after each
/// `...` line; comments and directives go with the document that follows
/// them. Markers count only at the start of a line, where YAML allows
/// nothing else. Always at least one part (perhaps empty).
std::vector<DocumentText> split_documents(std::string_view text);

}  // namespace adapters::manifest_yaml

#pragma once
// Where a piece of desired state came from, and problems found in it.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace model {

/// A place in the input. For manifests: a file with 1-based line and column.
/// For other sources (an app database) `file` names the table, row and column
/// and `line` is 0, meaning "no line/column".
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  /// "file:line:col", or just "file" when there is no line.
  std::string to_string() const;
  bool operator==(const SourceLocation&) const = default;
};

/// Where an object and each of its fields were declared, so that checks made
/// long after parsing (references, duplicates) can still point at the text.
struct Origin {
  SourceLocation object;
  /// Field path as written in the manifest ("spec.community", "spec.members[2].user").
  std::map<std::string, SourceLocation, std::less<>> fields;

  /// Location of `field` if it was recorded, else the object's location.
  const SourceLocation& of(std::string_view field) const;
};

/// One problem in the input. Messages are lower case with no trailing period.
struct Diagnostic {
  SourceLocation where;
  std::string message;

  /// "path:line:col: message", with control characters escaped (printable.h).
  std::string to_string() const;
  bool operator==(const Diagnostic&) const = default;
};

using Diagnostics = std::vector<Diagnostic>;

/// Orders diagnostics by file, line and column so output is stable whatever
/// order the checks ran in. Stable for equal positions.
void sort_diagnostics(Diagnostics& diagnostics);

}  // namespace model

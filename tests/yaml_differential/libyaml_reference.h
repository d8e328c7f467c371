#pragma once
// libyaml as the reference parser of the differential test: what it makes of
// a YAML stream, described the way mxctl's tree is described, so that the two
// readings of one text compare as strings.

#include <string>
#include <string_view>
#include <vector>

namespace tests::yaml_differential {

/// libyaml's reading of a stream: an error, or its documents.
struct Reading {
  /// Empty when libyaml accepted the stream; else its problem and 1-based
  /// position, and its context's ("4:8: found unexpected end of stream
  /// (while scanning a quoted scalar at 2:9)").
  std::string error;
  /// Every document whose root is not null, as describe() spells nodes.
  std::vector<std::string> documents;
};

/// `text` as libyaml must be given it to read it as YAML 1.2 reads `text`,
/// where the two differ in ways the mutants meet (libyaml is YAML 1.1, and
/// stricter than 1.2 here):
/// - a tab before a comment at the start of a line is separation space in
///   1.2; libyaml sees a tab where indentation goes. It becomes a space.
/// - 1.2 lets a document without `---` follow a `...` line (also one at the
///   very start); libyaml wants `---`. A `...` line becomes `---` unless a
///   directive follows (which needs the `...`) or precedes it (an error
///   that `---` would mend).
std::string rewrite_for_libyaml(std::string_view text);

/// Parses `text` with libyaml's event parser, resolving aliases as a
/// composer does (an undefined alias is an error, as in yaml_parser_load).
Reading read_with_libyaml(std::string_view text);

}  // namespace tests::yaml_differential

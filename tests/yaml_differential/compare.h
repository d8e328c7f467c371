#pragma once
// mxctl's reading of a YAML text next to libyaml's: what the differential
// test and the differential fuzz target both judge.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tests::yaml_differential {

/// How mxctl reads a text, as the manifest loader does: the tree's first
/// error ("line:col: message", 1-based) or its non-null documents as
/// describe() spells them, and the loader's first "invalid yaml" diagnostic.
struct MxctlReading {
  std::string error;
  std::string diagnostic;
  std::vector<std::string> documents;
};

/// Reads `text` (file name "m.yaml") with split_documents, Tree::parse and
/// parse_manifests.
MxctlReading read_with_mxctl(const std::string& text);

/// A reading as length-prefixed fields (to cross a pipe) and back; parse
/// consumes what it reads from `in`.
std::string serialize(const MxctlReading& reading);
MxctlReading parse_reading(std::string_view& in);

/// Why mxctl's reading of `text` is wrong next to libyaml's, or "": a
/// rejection without a position, the tree and the loader disagreeing, text
/// libyaml rejects accepted, text libyaml accepts rejected or read
/// differently, an open quote reported on another line than libyaml's.
/// Disagreements made on purpose are not wrong; `tally` counts them by name,
/// and the open quotes checked.
std::string disagreement(const std::string& text, const MxctlReading& mxctl, std::map<std::string, int>& tally);

}  // namespace tests::yaml_differential

#pragma once
// Reading manifest YAML with positions: typed field readers that report
// wrong types, unknown and repeated fields as diagnostics (never exceptions)
// and record where each field was written in the object's Origin.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/mark.h>

#include "adapters/manifests/yaml_tree.h"
#include "model/diagnostic.h"

namespace adapters::manifest_yaml {

/// `"text"`.
std::string in_quotes(std::string_view text);
/// "path.key" (just "key" at the top).
std::string child(const std::string& path, std::string_view key);
/// "path[index]".
std::string item(const std::string& path, std::size_t index);
/// A field path as messages show it: without the leading "spec.".
std::string shown(const std::string& path);
/// YAML null (`key:` or `key: ~`) counts as absent, as in Kubernetes manifests.
bool present(const Node& node);
/// What a node is, for "must be X, got Y" messages.
std::string got(const Node& node);

/// Reads one YAML document, reporting problems against one subject
/// ("community \"riverside\"") and recording field positions in one Origin.
class DocumentReader {
 public:
  /// Positions are reported in `file`, shifted down by `line_offset` (the
  /// document's first line within the file); problems go to `diagnostics`.
  DocumentReader(const std::string& file, int line_offset, model::Diagnostics& diagnostics);

  /// Names the object problems are reported against and the Origin that
  /// field positions are recorded in (which must outlive the reads).
  void set_subject(std::string subject, model::Origin* origin);
  model::Origin* origin() const { return m_origin; }

  /// 1-based position of a node or mark in the file.
  model::SourceLocation at(const Node& node) const { return at(node.mark()); }
  model::SourceLocation at(const YAML::Mark& mark) const;

  /// Adds "<subject>: <message>" at a position.
  void report(const model::SourceLocation& where, const std::string& message);
  void report(const Node& node, const std::string& message) { report(at(node), message); }

  /// Reports unknown keys (with a suggestion), repeated keys and non-scalar keys.
  void check_fields(const Node& map, const std::string& path, const std::vector<std::string>& known);

  /// The value of `key` in `map`, its position recorded; absent (not
  /// present()) when not given.
  Node field(const Node& map, const std::string& path, std::string_view key);

  /// True when `node` is a mapping (a list); reports it otherwise.
  bool expect_map(const Node& node, const std::string& path);
  bool expect_list(const Node& node, const std::string& path);

  /// The node as a string / integer; reported and nothing when it is not one.
  std::optional<std::string> as_string(const Node& node, const std::string& path);
  std::optional<int> as_int(const Node& node, const std::string& path);

  /// YAML 1.2 core booleans only: "yes", "on" and friends are YAML 1.1 and a
  /// classic source of surprises, so they are rejected rather than guessed.
  std::optional<bool> as_bool(const Node& node, const std::string& path);

  /// One of `values` (by index), reported with the full list otherwise.
  std::optional<std::size_t> as_choice(const Node& node, const std::string& path,
                                       const std::vector<std::string>& values);

  /// Convenience readers: leave `out` alone when the field is absent or wrong.
  void read(const Node& map, const std::string& path, std::string_view key, std::string& out);
  void read(const Node& map, const std::string& path, std::string_view key, std::optional<std::string>& out);
  void read(const Node& map, const std::string& path, std::string_view key, bool& out);
  void read(const Node& map, const std::string& path, std::string_view key, int& out);
  void read(const Node& map, const std::string& path, std::string_view key, std::vector<std::string>& out);

 private:
  // Records where `path.key` was given (at `value`) and returns that path as
  // the Origin holds it.
  const std::string& record(const std::string& path, std::string_view key, const Node& value);

  const std::string& m_file;
  int m_line_offset;
  model::Diagnostics& m_diagnostics;
  std::string m_subject;
  model::Origin* m_origin = nullptr;
};

}  // namespace adapters::manifest_yaml

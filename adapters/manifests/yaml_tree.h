#pragma once
// Parsed manifest YAML as the readers see it. yaml-cpp's parser does the
// parsing (tags, anchors, syntax errors and their marks are all its own); its
// events are kept in a flat, read-only tree instead of yaml-cpp's YAML::Node
// graph, whose per-node allocations, shared_ptr bookkeeping and teardown cost
// about as much again as the parse on large manifest sets, and whose map
// lookups copy every key they pass. yaml-cpp 0.7 also accepts text that YAML
// 1.2 rejects, reading it as something else; the tree rejects that text.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/mark.h>

namespace adapters::manifest_yaml {

class Tree;

/// A node of a Tree, or absent (what a lookup of a field that was not given
/// returns). A small handle to copy freely; valid until its Tree parses again
/// or is destroyed.
class Node {
 public:
  /// Absent: null, with no children and a null mark.
  Node() = default;

  /// True for YAML null (`key:`, `key: ~`) and for an absent node.
  bool is_null() const;
  bool is_scalar() const;
  bool is_list() const;
  bool is_map() const;

  /// Where the node starts, 0-based as yaml-cpp reports it; an alias has the
  /// position of the node it names. Null for an absent node.
  YAML::Mark mark() const;
  /// A scalar's text; empty for anything else.
  std::string_view scalar() const;
  /// A scalar's tag: "?" when plain, "!" when quoted, else the explicit tag
  /// as yaml-cpp resolved it. Empty for anything else.
  std::string_view tag() const;

  /// Items of a list, entries of a map; 0 for anything else.
  std::size_t size() const;
  /// The `index`th item of a list (index < size()).
  Node item(std::size_t index) const;
  /// The key / value of a map's `index`th entry, in document order (index < size()).
  Node key(std::size_t index) const;
  Node value(std::size_t index) const;
  /// The value of the first entry whose key is the scalar `key`, as yaml-cpp's
  /// `map["key"]` finds it; absent when there is none or this is not a map.
  Node find(std::string_view key) const;

 private:
  friend class Tree;
  Node(const Tree* tree, std::size_t index) : m_tree(tree), m_index(index) {}

  const Tree* m_tree = nullptr;
  std::size_t m_index = 0;
};

/// Documents parsed from one stream. Reusable: each parse() replaces what the
/// tree held but keeps its memory, so a file's documents are parsed one after
/// another without allocating per node.
class Tree {
 public:
  /// Parses every document in `text` and returns their roots in order, as
  /// YAML::LoadAll would (a document with no content is a null root). Throws
  /// YAML::Exception (0-based mark, lower-case message) on a syntax error,
  /// and on what yaml-cpp would accept although YAML 1.2 does not: what
  /// find_text_problem refuses, a quoted scalar open at the end, a block
  /// mapping key without ':' or with nothing before it, an empty flow
  /// entry, tab indentation, malformed tags, anchors and directives (see
  /// yaml_strict_text.h), a document that follows another without `---` (or
  /// a `...` line). The tree is then empty.
  std::vector<Node> parse(std::string_view text);

 private:
  friend class Node;
  friend class TreeBuilder;

  enum class Kind { null, scalar, list, map };
  struct Entry {
    Kind kind = Kind::null;
    YAML::Mark mark;
    /// Index in m_tags (scalars).
    std::size_t tag = 0;
    /// Scalars: their text in m_text. Lists and maps: their children in
    /// m_children (a map's as key, value, key, value, ...).
    std::size_t begin = 0;
    std::size_t size = 0;
  };

  void clear();
  const Entry& entry(std::size_t index) const { return m_nodes[index]; }

  std::vector<Entry> m_nodes;
  std::vector<std::size_t> m_children;
  std::string m_text;
  /// What yaml-cpp reads: the text given to parse() and an end marker.
  std::string m_input;
  /// Each distinct tag once; nearly every scalar is "?" or "!".
  std::vector<std::string> m_tags;
};

}  // namespace adapters::manifest_yaml

#include "adapters/yaml_tree.h"

#include <algorithm>
#include <istream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

namespace adapters::manifest_yaml {

namespace {

constexpr std::size_t k_none = static_cast<std::size_t>(-1);

}  // namespace

bool Node::is_null() const { return m_tree == nullptr || m_tree->entry(m_index).kind == Tree::Kind::null; }
bool Node::is_scalar() const { return m_tree != nullptr && m_tree->entry(m_index).kind == Tree::Kind::scalar; }
bool Node::is_list() const { return m_tree != nullptr && m_tree->entry(m_index).kind == Tree::Kind::list; }
bool Node::is_map() const { return m_tree != nullptr && m_tree->entry(m_index).kind == Tree::Kind::map; }

YAML::Mark Node::mark() const { return m_tree == nullptr ? YAML::Mark::null_mark() : m_tree->entry(m_index).mark; }

std::string_view Node::scalar() const {
  if (!is_scalar()) {
    return {};
  }
  const Tree::Entry& entry = m_tree->entry(m_index);
  return std::string_view(m_tree->m_text).substr(entry.begin, entry.size);
}

std::string_view Node::tag() const {
  if (!is_scalar()) {
    return {};
  }
  return m_tree->m_tags[m_tree->entry(m_index).tag];
}

std::size_t Node::size() const {
  if (is_list()) {
    return m_tree->entry(m_index).size;
  }
  return is_map() ? m_tree->entry(m_index).size / 2 : 0;
}

Node Node::item(std::size_t index) const { return Node(m_tree, m_tree->m_children[m_tree->entry(m_index).begin + index]); }

Node Node::key(std::size_t index) const {
  return Node(m_tree, m_tree->m_children[m_tree->entry(m_index).begin + 2 * index]);
}

Node Node::value(std::size_t index) const {
  return Node(m_tree, m_tree->m_children[m_tree->entry(m_index).begin + 2 * index + 1]);
}

Node Node::find(std::string_view name) const {
  const std::size_t entries = is_map() ? size() : 0;
  for (std::size_t i = 0; i < entries; ++i) {
    // Only a scalar key can match: yaml-cpp compares keys as strings and a
    // list, a mapping or a null is not one.
    if (const Node candidate = key(i); candidate.is_scalar() && candidate.scalar() == name) {
      return value(i);
    }
  }
  return Node();
}

void Tree::clear() {
  m_nodes.clear();
  m_children.clear();
  m_text.clear();
  m_tags.clear();
}

// Builds a Tree from yaml-cpp's parser events, just as yaml-cpp's own
// NodeBuilder builds a YAML::Node: a node joins its parent when it is
// complete (a collection at its end), a map's children alternate key and
// value, and an alias is the very node its anchor named.
class TreeBuilder : public YAML::EventHandler {
 public:
  explicit TreeBuilder(Tree& tree) : m_tree(tree) {}

  /// Forgets the previous document's anchors and root.
  void start_document() {
    m_anchors.clear();
    m_open.clear();
    m_pending.clear();
    m_root = k_none;
  }
  std::size_t root() const { return m_root; }

  void OnDocumentStart(const YAML::Mark& /*mark*/) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    complete(add(Tree::Kind::null, mark, anchor));
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    // yaml-cpp's parser has already rejected an unknown anchor; the null is
    // only there so that a malformed event stream cannot read out of range.
    if (anchor < m_anchors.size() && m_anchors[anchor] != k_none) {
      complete(m_anchors[anchor]);
    } else {
      complete(add(Tree::Kind::null, mark, YAML::NullAnchor));
    }
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const std::size_t index = add(Tree::Kind::scalar, mark, anchor);
    Tree::Entry& entry = m_tree.m_nodes[index];
    entry.tag = tag_index(tag);
    entry.begin = m_tree.m_text.size();
    entry.size = value.size();
    m_tree.m_text += value;
    complete(index);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    open(Tree::Kind::list, mark, anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    open(Tree::Kind::map, mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  // A collection being built and where its children start in m_pending.
  struct Open {
    std::size_t index;
    std::size_t first_child;
  };

  std::size_t add(Tree::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    const std::size_t index = m_tree.m_nodes.size();
    m_tree.m_nodes.push_back(Tree::Entry{kind, mark, 0, 0, 0});
    // Registered when the node starts, as yaml-cpp does, so a collection's
    // own children may name it.
    if (anchor != YAML::NullAnchor) {
      if (m_anchors.size() <= anchor) {
        m_anchors.resize(anchor + 1, k_none);
      }
      m_anchors[anchor] = index;
    }
    return index;
  }

  std::size_t tag_index(const std::string& tag) {
    const auto it = std::find(m_tree.m_tags.begin(), m_tree.m_tags.end(), tag);
    if (it != m_tree.m_tags.end()) {
      return static_cast<std::size_t>(it - m_tree.m_tags.begin());
    }
    m_tree.m_tags.push_back(tag);
    return m_tree.m_tags.size() - 1;
  }

  void open(Tree::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    m_open.push_back(Open{add(kind, mark, anchor), m_pending.size()});
  }

  void close() {
    if (m_open.empty()) {
      return;
    }
    const Open done = m_open.back();
    m_open.pop_back();
    std::size_t count = m_pending.size() - done.first_child;
    Tree::Entry& entry = m_tree.m_nodes[done.index];
    if (entry.kind == Tree::Kind::map && count % 2 != 0) {
      // A key still waiting for its value is left out, as yaml-cpp does.
      --count;
    }
    entry.begin = m_tree.m_children.size();
    entry.size = count;
    m_tree.m_children.insert(m_tree.m_children.end(), m_pending.begin() + static_cast<std::ptrdiff_t>(done.first_child),
                             m_pending.begin() + static_cast<std::ptrdiff_t>(done.first_child + count));
    m_pending.resize(done.first_child);
    complete(done.index);
  }

  // A finished node joins the collection being built, or is the root.
  void complete(std::size_t index) {
    if (m_open.empty()) {
      m_root = index;
    } else {
      m_pending.push_back(index);
    }
  }

  Tree& m_tree;
  std::vector<std::size_t> m_anchors;
  std::vector<Open> m_open;
  /// Children of every open collection, innermost last.
  std::vector<std::size_t> m_pending;
  std::size_t m_root = k_none;
};

std::vector<Node> Tree::parse(std::istream& input) {
  clear();
  std::vector<Node> roots;
  try {
    YAML::Parser parser(input);
    TreeBuilder builder(*this);
    while (true) {
      builder.start_document();
      if (!parser.HandleNextDocument(builder)) {
        break;
      }
      roots.push_back(builder.root() == k_none ? Node() : Node(this, builder.root()));
    }
  } catch (...) {
    clear();
    throw;
  }
  return roots;
}

}  // namespace adapters::manifest_yaml

#include "adapters/manifests/yaml_tree.h"

#include <algorithm>
#include <istream>
#include <optional>
#include <streambuf>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include "adapters/manifests/yaml_quoted_text.h"
#include "adapters/manifests/yaml_split.h"
#include "adapters/manifests/yaml_strict_text.h"
#include "adapters/manifests/yaml_text_check.h"

namespace adapters::manifest_yaml {

namespace {

constexpr std::size_t k_none = static_cast<std::size_t>(-1);

// Put after text that ends in a line break. yaml-cpp 0.7 takes the end of
// its input inside a quoted scalar as the scalar's end if a line break came
// last (so an unclosed quote swallows the rest of the document), but rejects
// a document marker there; after a complete document the marker changes
// nothing.
constexpr std::string_view k_end_marker = "...\n";

// Reads text in place for yaml-cpp's parser, which takes a std::istream: a
// std::istringstream would copy the text again. yaml-cpp only reads (and
// puts back what it read), so the text is never written through the
// non-const pointers.
class TextBuffer : public std::streambuf {
 public:
  explicit TextBuffer(std::string_view text) {
    char* begin = const_cast<char*>(text.data());
    setg(begin, begin, begin + text.size());
  }
};

[[noreturn]] void reject(const YAML::Mark& mark, const std::string& message) {
  throw YAML::ParserException(mark, message);
}

// The 0-based mark of byte `pos` of `text`, columns in bytes as yaml-cpp counts them.
YAML::Mark mark_at(std::string_view text, std::size_t pos) {
  YAML::Mark mark;
  const std::size_t line_begin = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
  mark.pos = static_cast<int>(pos);
  mark.line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
  mark.column = static_cast<int>(line_begin == std::string_view::npos ? pos : pos - line_begin - 1);
  return mark;
}

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
// value, and an alias is the very node its anchor named. It also rejects
// what yaml-cpp makes of text YAML 1.2 forbids (see Tree::parse).
class TreeBuilder : public YAML::EventHandler {
 public:
  /// `input` is what the parser reads, of which the first `content` bytes
  /// are the text (the rest is k_end_marker).
  TreeBuilder(Tree& tree, std::string_view input, std::size_t content)
      : m_tree(tree), m_input(input), m_content(content) {}

  /// Forgets the previous document's anchors and root.
  void start_document() {
    m_anchors.clear();
    m_open.clear();
    m_pending.clear();
    m_root = k_none;
    m_in_end_marker = false;
  }
  std::size_t root() const { return m_root; }
  /// Where the last node read started (0 before any).
  std::size_t last_node() const { return m_last_node; }
  /// Where the last scalar read opens a quote it never closes, or nothing:
  /// yaml-cpp ends a quoted scalar at the end of its input when only blanks
  /// follow its last line break, or nothing its opening quote.
  std::optional<std::size_t> open_quote_at_end() const {
    return m_read_scalar ? unclosed_quote(m_input, m_last_scalar) : std::nullopt;
  }
  /// True when the last document was only k_end_marker, not the text's.
  bool in_end_marker() const { return m_in_end_marker; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    const auto pos = static_cast<std::size_t>(mark.pos);
    if (pos >= m_content) {
      m_in_end_marker = true;
      return;
    }
    // A document that consumed nothing leaves yaml-cpp where it was, and
    // the next one starts there again, forever.
    if (m_documents > 0 && pos <= m_last_start) {
      reject(mark, "unexpected '" + std::string(1, m_input[pos]) + "'");
    }
    if (std::optional<TextSpot> problem = directive_problem(m_input, pos)) {
      reject(mark_at(m_input, problem->pos), problem->message);
    }
    if (!(mark.column == 0 && is_marker_line(m_input.substr(pos), "---"))) {
      if (std::optional<TextSpot> problem = bare_document_problem(m_input, pos, m_documents == 0)) {
        reject(mark_at(m_input, problem->pos), problem->message);
      }
    }
    ++m_documents;
    m_last_start = pos;
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    check_indentation(mark);
    // A null may carry properties (`key: &a`); they are checked like any.
    if (std::optional<TextSpot> problem = properties_problem(m_input, static_cast<std::size_t>(mark.pos))) {
      reject(mark_at(m_input, problem->pos), problem->message);
    }
    complete(add(Tree::Kind::null, mark, anchor), mark);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    check_indentation(mark);
    if (std::optional<TextSpot> problem = alias_problem(m_input, static_cast<std::size_t>(mark.pos))) {
      reject(mark_at(m_input, problem->pos), problem->message);
    }
    m_last_node = static_cast<std::size_t>(mark.pos);
    // yaml-cpp's parser has already rejected an unknown anchor; the null is
    // only there so that a malformed event stream cannot read out of range.
    if (anchor < m_anchors.size() && m_anchors[anchor] != k_none) {
      complete(m_anchors[anchor], mark);
    } else {
      complete(add(Tree::Kind::null, mark, YAML::NullAnchor), mark);
    }
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    check_indentation(mark);
    check_tag(mark, tag);
    m_last_scalar = static_cast<std::size_t>(mark.pos);
    m_read_scalar = true;
    if (const std::optional<std::size_t> quote = dropped_empty_lines(m_input, m_last_scalar)) {
      reject(mark_at(m_input, *quote), "empty lines before a closing quote are misread by the parser (write \\n)");
    }
    const std::size_t index = add(Tree::Kind::scalar, mark, anchor);
    Tree::Entry& entry = m_tree.m_nodes[index];
    entry.tag = tag_index(tag);
    entry.begin = m_tree.m_text.size();
    entry.size = value.size();
    m_tree.m_text += value;
    complete(index, mark);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    check_indentation(mark);
    check_tag(mark, tag);
    open(Tree::Kind::list, mark, anchor, style);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    check_indentation(mark);
    check_tag(mark, tag);
    open(Tree::Kind::map, mark, anchor, style);
  }
  void OnMapEnd() override { close(); }

 private:
  // A collection being built and where its children start in m_pending.
  struct Open {
    std::size_t index;
    std::size_t first_child;
    YAML::EmitterStyle::value style;
  };
  // A finished child and where its event was (an alias's own position, not
  // its anchor's).
  struct Child {
    std::size_t index;
    YAML::Mark mark;
  };

  // yaml-cpp counts a tab as one column of indentation (`a:\n\tb` is
  // `{a: b}` to it); YAML never indents with tabs. A node in block context
  // that only a tab-holding indentation precedes on its line is refused,
  // whatever YAML 1.2 would make of it as separation space (libyaml refuses
  // it too).
  void check_indentation(const YAML::Mark& mark) const {
    for (const Open& open : m_open) {
      if (open.style == YAML::EmitterStyle::Flow) {
        return;
      }
    }
    if (indented_with_tab(m_input, static_cast<std::size_t>(mark.pos))) {
      reject(mark, "indentation must use spaces, not tabs");
    }
  }

  // yaml-cpp reads a tag or anchor run into its node (`!<t>:`), tags with
  // characters YAML does not allow, and keeps a tag whose
  // handle no %TAG directive defined as written ("!e!x"); YAML 1.2 rejects
  // both. Only a verbatim tag (`!<!e!x>`) may look like the latter.
  void check_tag(const YAML::Mark& mark, const std::string& tag) const {
    if (std::optional<TextSpot> problem = properties_problem(m_input, static_cast<std::size_t>(mark.pos))) {
      reject(mark_at(m_input, problem->pos), problem->message);
    }
    const std::size_t second = tag.size() > 2 && tag.front() == '!' ? tag.find('!', 1) : std::string::npos;
    if (second != std::string::npos && m_input.find("!<" + tag + ">") == std::string_view::npos) {
      reject(mark, "undefined tag handle " + excerpt(tag.substr(0, second + 1)));
    }
  }

  std::size_t add(Tree::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    m_last_node = static_cast<std::size_t>(mark.pos);
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

  void open(Tree::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor, YAML::EmitterStyle::value style) {
    m_open.push_back(Open{add(kind, mark, anchor), m_pending.size(), style});
  }

  // yaml-cpp 0.7 turns a line without ':' at the end of a block mapping into
  // a key with a null value, placed where the key is (a written ':' puts it
  // further on), and, when a comment line follows, into the value of the
  // key above, though a value on its own line must be indented more than its
  // key (a block sequence excepted). It reads `: a: b` as an empty key whose
  // value is a nested mapping; empty keys are rejected outright: no manifest
  // field has one, and libyaml refuses them too.
  void check_block_map(const Tree::Entry& map, std::size_t first, std::size_t count) const {
    for (std::size_t i = first; i + 1 < first + count; i += 2) {
      const Child& key = m_pending[i];
      const Child& value = m_pending[i + 1];
      const Tree::Entry& key_entry = m_tree.m_nodes[key.index];
      const Tree::Entry& value_entry = m_tree.m_nodes[value.index];
      if (value_entry.kind == Tree::Kind::null && value.mark.pos == key.mark.pos) {
        reject(key.mark, missing_colon(key_entry));
      }
      if (value_entry.kind != Tree::Kind::null && value_entry.kind != Tree::Kind::list) {
        check_value_indentation(map, value, value_entry);
      }
      const auto key_pos = static_cast<std::size_t>(key.mark.pos);
      if (key_entry.kind == Tree::Kind::null && key_pos < m_input.size() && m_input[key_pos] == ':') {
        reject(key.mark, "expected a key before ':'");
      }
    }
  }

  // A value on a later line than its key must be indented more than the
  // key; properties (`a: !t`) may leave the content for a later line still,
  // unless there is none (an empty scalar neither quoted nor a block
  // scalar). A list is exempt: it may sit at its key's indentation.
  void check_value_indentation(const Tree::Entry& map, const Child& value, const Tree::Entry& entry) const {
    const auto start = static_cast<std::size_t>(value.mark.pos);
    std::size_t content = node_content(m_input, start);
    if (entry.kind == Tree::Kind::scalar && entry.size == 0 &&
        (content >= m_input.size() || std::string_view("'\"|>").find(m_input[content]) == std::string_view::npos)) {
      content = start;
    }
    // The column alone: a full mark counts every line above.
    const std::size_t newline = content == 0 ? std::string_view::npos : m_input.rfind('\n', content - 1);
    const auto content_column = static_cast<int>(newline == std::string_view::npos ? content : content - newline - 1);
    if (std::min(value.mark.column, content_column) > map.mark.column) {
      return;
    }
    // A block scalar (`|`, `>`) is a value; any other scalar there is a key.
    const char first = content < m_input.size() ? m_input[content] : '\0';
    reject(value.mark.column <= map.mark.column ? value.mark : mark_at(m_input, content),
           entry.kind == Tree::Kind::scalar && first != '|' && first != '>'
               ? missing_colon(entry)
               : std::string("a value on its own line must be indented more than its key"));
  }

  // yaml-cpp reads an empty entry of a flow collection (`[a, , b]`,
  // `{, a: b}`) as a null item or key placed at the ',' that follows it;
  // YAML has no empty entries (a trailing ',' is fine, and yaml-cpp reads
  // none there). A map's null value may sit at a ',' (`{a, b: 1}`,
  // `{a: , b: 1}`): that is an entry without a value, which YAML allows. An
  // empty key (`{: v}`) is refused as in a block mapping.
  void check_flow_entries(const Tree::Entry& collection, std::size_t first, std::size_t count) const {
    const bool map = collection.kind == Tree::Kind::map;
    for (std::size_t i = first; i < first + count; i += map ? 2 : 1) {
      const auto pos = static_cast<std::size_t>(m_pending[i].mark.pos);
      if (m_tree.m_nodes[m_pending[i].index].kind != Tree::Kind::null || pos >= m_input.size()) {
        continue;
      }
      if (m_input[pos] == ',') {
        reject(m_pending[i].mark, "expected an entry before ','");
      }
      if (map && m_input[pos] == ':') {
        reject(m_pending[i].mark, "expected a key before ':'");
      }
    }
  }

  std::string missing_colon(const Tree::Entry& key) const {
    return key.kind == Tree::Kind::scalar
               ? "expected ':' after " + excerpt(std::string_view(m_tree.m_text).substr(key.begin, key.size))
               : std::string("expected ':' after the key");
  }

  void close() {
    if (m_open.empty()) {
      return;
    }
    const Open done = m_open.back();
    m_open.pop_back();
    std::size_t count = m_pending.size() - done.first_child;
    Tree::Entry& entry = m_tree.m_nodes[done.index];
    // Default: a mapping yaml-cpp opened at a ':' with no key before it.
    if (entry.kind == Tree::Kind::map && done.style != YAML::EmitterStyle::Flow) {
      check_block_map(entry, done.first_child, count);
    }
    if (done.style == YAML::EmitterStyle::Flow) {
      check_flow_entries(entry, done.first_child, count);
    }
    if (entry.kind == Tree::Kind::map && count % 2 != 0) {
      // A key still waiting for its value is left out, as yaml-cpp does.
      --count;
    }
    entry.begin = m_tree.m_children.size();
    entry.size = count;
    for (std::size_t i = done.first_child; i < done.first_child + count; ++i) {
      m_tree.m_children.push_back(m_pending[i].index);
    }
    m_pending.resize(done.first_child);
    complete(done.index, entry.mark);
  }

  // A finished node joins the collection being built, or is the root.
  void complete(std::size_t index, const YAML::Mark& mark) {
    if (m_open.empty()) {
      m_root = index;
    } else {
      m_pending.push_back(Child{index, mark});
    }
  }

  Tree& m_tree;
  std::string_view m_input;
  std::size_t m_content;
  std::vector<std::size_t> m_anchors;
  std::vector<Open> m_open;
  /// Children of every open collection, innermost last.
  std::vector<Child> m_pending;
  std::size_t m_root = k_none;
  /// Documents of the text started so far, and where the last one started.
  std::size_t m_documents = 0;
  std::size_t m_last_start = 0;
  std::size_t m_last_node = 0;
  std::size_t m_last_scalar = 0;
  bool m_read_scalar = false;
  bool m_in_end_marker = false;
};

std::vector<Node> Tree::parse(std::string_view text) {
  clear();
  if (std::optional<TextProblem> problem = find_text_problem(text)) {
    throw YAML::ParserException(problem->mark, problem->message);
  }
  // yaml-cpp skips a byte order mark without counting it in its marks, which
  // the checks here compare with the text; without it the two agree.
  if (text.starts_with(k_byte_order_mark)) {
    text.remove_prefix(k_byte_order_mark.size());
  }
  m_input.assign(text);
  if (text.ends_with('\n')) {
    m_input += k_end_marker;
  }
  std::vector<Node> roots;
  TreeBuilder builder(*this, m_input, text.size());
  try {
    TextBuffer buffer(m_input);
    std::istream stream(&buffer);
    YAML::Parser parser(stream);
    while (true) {
      builder.start_document();
      if (!parser.HandleNextDocument(builder) || builder.in_end_marker()) {
        break;
      }
      roots.push_back(builder.root() == k_none ? Node() : Node(this, builder.root()));
    }
    // Without k_end_marker, yaml-cpp misreads a tag that ends the input: as
    // null (dropping the tag) at the root, as "!!" when it is "!".
    if (m_input.size() == text.size()) {
      if (const std::optional<std::size_t> tag = final_tag(text)) {
        reject(mark_at(text, *tag), "a tag with nothing after it ends the file (end the file with a line break)");
      }
    }
    if (const std::optional<std::size_t> quote = builder.open_quote_at_end()) {
      reject(mark_at(text, *quote), "quoted string not closed before the end of the document");
    }
    if (const std::optional<TextSpot> directive = trailing_directive(text)) {
      reject(mark_at(text, directive->pos), directive->message);
    }
  } catch (const YAML::ParserException& error) {
    clear();
    // Both mean a quoted scalar that runs to the end of the document (the
    // second thanks to k_end_marker), which is then reported where it opens.
    if (error.msg == YAML::ErrorMsg::EOF_IN_SCALAR || error.msg == YAML::ErrorMsg::DOC_IN_SCALAR) {
      const std::string_view read = std::string_view(m_input).substr(0, static_cast<std::size_t>(error.mark.pos));
      YAML::Mark mark = error.mark;
      if (const std::optional<std::size_t> quote = find_unclosed_quote(read, builder.last_node())) {
        mark = mark_at(read, *quote);
      }
      throw YAML::ParserException(mark, "quoted string not closed before the end of the document");
    }
    throw;
  } catch (...) {
    clear();
    throw;
  }
  return roots;
}

}  // namespace adapters::manifest_yaml

#include "tests/yaml_differential/compare.h"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <sstream>

#include <yaml-cpp/exceptions.h>

#include "adapters/manifests/yaml_manifests.h"
#include "adapters/manifests/yaml_split.h"
#include "adapters/manifests/yaml_tree.h"
#include "tests/yaml_differential/describe.h"
#include "tests/yaml_differential/libyaml_reference.h"

namespace tests::yaml_differential {

namespace {

using adapters::manifest_yaml::Node;

// Text mxctl rejects although YAML 1.2 and libyaml accept it: choices made on
// purpose, recognised by mxctl's message.
const std::vector<std::pair<std::string, std::string>> k_stricter_than_yaml = {
    // 1.2 reads a lone CR as a line break, yaml-cpp as text (a file with
    // old Mac line endings becomes one comment): rejected, not guessed.
    {"carriage return without a line feed", "a lone CR"},
    // NEL, LS and PS are line breaks to YAML 1.1 (and libyaml) and text to
    // 1.2: a manifest holding one means different things to different tools.
    {"(yaml 1.1 reads it as a line break, yaml 1.2 as text)", "NEL, LS or PS"},
    // 1.2 allows a byte order mark before each document and inside quoted
    // scalars; mxctl only at the start of a file.
    {"byte order mark U+FEFF is only allowed at the start", "a byte order mark inside the file"},
    // 1.2 allows `: value` (an empty key) in a block mapping; no manifest
    // field is empty (libyaml mostly refuses it too).
    {"expected a key before ':'", "an empty key"},
    // 1.2 (and libyaml) also read UTF-16; manifests are UTF-8.
    {"utf-16 is not supported", "utf-16 text"},
    // 1.2 wants a `...` line between a document and the next one's
    // directives; libyaml does not.
    {"a directive after a document needs a line with ... before it", "a directive right after a document"},
    // 1.2 allows nearly any character in anchor and alias names (`&a:b` is
    // the anchor "a:b"); libyaml only letters, digits, '-' and '_', and
    // reads what follows as the node (`&a:b` anchors ":b"). mxctl refuses
    // other characters rather than pick a reading.
    {"invalid character in an anchor name", "an anchor name beyond [A-Za-z0-9_-]"},
    {"invalid character in an alias name", "an alias name beyond [A-Za-z0-9_-]"},
    // 1.2 ignores directives other than %YAML and %TAG; mxctl refuses them
    // (as libyaml does).
    {"unknown directive", "a directive other than %YAML and %TAG"},
    // yaml-cpp keeps at most one line break of the empty lines that end a
    // multi-line quoted scalar ("a\n\n\n" before the closing quote is
    // "a\n\n" to YAML, "a\n" to yaml-cpp): refused rather than misread.
    {"empty lines before a closing quote", "empty lines ending a quoted string"},
    // yaml-cpp reads a tagged empty node at the end of a file with no final
    // line break as null, dropping the tag: refused rather than misread.
    {"a tag with nothing after it ends the file", "a tag ending a file"},
};

// The messages of the checks mxctl adds around yaml-cpp (yaml_tree.cc,
// yaml_text_check.cc, yaml_strict_text.cc): these must not reject what
// libyaml accepts beyond k_stricter_than_yaml. yaml-cpp's own parser does
// reject some valid YAML (`{? k ? v}`: "k ? v" is a plain scalar); a
// rejection never misreads a manifest, so those are only counted.
constexpr std::string_view k_mxctl_checks[] = {
    "unexpected '", "unexpected content after the end of the document", "expected ':' after",
    "expected a key before", "quoted string not closed", "undefined tag handle", "utf-8", "utf-16", "character U+",
    "carriage return", "byte order mark", "unknown directive", "a tag with nothing after it", "a space after the",
    "invalid character in a", "empty tag", "closing quote", "indentation must use spaces",
    "expected an entry before", "directive",
};

// Line `line` (1-based) of `text`, without its line break; empty past the end.
std::string line_of(const std::string& text, int line) {
  std::istringstream lines(text);
  std::string at;
  for (int i = 0; i < line && std::getline(lines, at); ++i) {
  }
  return at;
}

// The character at "line:col: …" (1-based, as both readings report), or '\0'.
char char_at(const std::string& text, const std::string& position) {
  int line = 0;
  int column = 0;
  if (std::sscanf(position.c_str(), "%d:%d", &line, &column) != 2 || line < 1 || column < 1) {
    return '\0';
  }
  const std::string at = line_of(text, line);
  return static_cast<std::size_t>(column) <= at.size() ? at[static_cast<std::size_t>(column - 1)] : '\0';
}

// Text libyaml rejects although YAML 1.2 accepts it, and mxctl with it (see
// also rewrite_for_libyaml), by the character libyaml stops at; empty when
// libyaml's objection is not one of these.
// - a tag that a flow indicator ends (`[!t]`: an empty node with a tag).
// - ':' or '?' starting a plain scalar in a flow collection (`{a: :b}`),
//   which 1.2 allows when a non-space follows and libyaml never does.
// - ':' right before a flow indicator (`[a:]`, `{a:}`): a key with an empty
//   value to 1.2, an error to libyaml.
// - a tab after an indicator (`a:\tb`, `-\tb`): separation space to 1.2,
//   where libyaml allows only spaces (mxctl refuses tabs as indentation).
std::string libyaml_stricter_than_yaml(const std::string& text, const std::string& libyaml_error) {
  int line = 0;
  int column = 0;
  if (std::sscanf(libyaml_error.c_str(), "%d:%d", &line, &column) != 2 || line < 1 || column < 1) {
    return "";
  }
  const std::string at = line_of(text, line);
  const auto index = static_cast<std::size_t>(column - 1);
  if (index >= at.size()) {
    return "";
  }
  const char found = at[index];
  const char next = index + 1 < at.size() ? at[index + 1] : ' ';
  if (libyaml_error.find("did not find expected whitespace or line break") != std::string::npos &&
      std::string_view(",]}").find(found) != std::string_view::npos) {
    return "a flow indicator right after a tag";
  }
  if (libyaml_error.find("found character that cannot start any token") != std::string::npos && found == '\t' &&
      at.find_first_not_of(" \t") < index) {
    return "a tab as separation after an indicator";
  }
  if (libyaml_error.find("found unexpected ':'") != std::string::npos && found == ':' &&
      std::string_view(",]}").find(next) != std::string_view::npos) {
    return "':' right before a flow indicator";
  }
  if (libyaml_error.find("did not find expected node content") != std::string::npos && (found == ':' || found == '?') &&
      std::string_view(" \t\r,[]{}").find(next) == std::string_view::npos) {
    return "':' or '?' starting a plain scalar in a flow collection";
  }
  // The same, where what follows the ':' cannot start a token (`{a: :%v}`).
  const char previous = index > 0 ? at[index - 1] : ' ';
  const char before_previous = index > 1 ? at[index - 2] : ' ';
  if (libyaml_error.find("found character that cannot start any token") != std::string::npos &&
      (previous == ':' || previous == '?') &&
      std::string_view(" \t,[{").find(before_previous) != std::string_view::npos &&
      std::string_view(" \t\r,[]{}").find(found) == std::string_view::npos) {
    return "':' or '?' starting a plain scalar in a flow collection";
  }
  return "";
}

// How describe() sees mxctl's tree.
class NodeView {
 public:
  explicit NodeView(Node node) : m_node(node) {}
  Kind kind() const {
    return m_node.is_map() ? Kind::map : m_node.is_list() ? Kind::list : m_node.is_scalar() ? Kind::scalar : Kind::null;
  }
  std::string_view tag() const { return m_node.tag(); }
  std::string_view text() const { return m_node.scalar(); }
  std::size_t size() const { return m_node.is_map() ? 2 * m_node.size() : m_node.size(); }
  NodeView child(std::size_t i) const {
    return NodeView(m_node.is_map() ? (i % 2 == 0 ? m_node.key(i / 2) : m_node.value(i / 2)) : m_node.item(i));
  }

 private:
  Node m_node;
};

void put(std::string& out, const std::string& field) {
  out.append(std::to_string(field.size())).append(":").append(field);
}

std::string take(std::string_view& in) {
  const std::size_t colon = in.find(':');
  const std::size_t size = std::stoul(std::string(in.substr(0, colon)));
  std::string field(in.substr(colon + 1, size));
  in.remove_prefix(colon + 1 + size);
  return field;
}

}  // namespace

MxctlReading read_with_mxctl(const std::string& text) {
  MxctlReading reading;
  adapters::manifest_yaml::Tree tree;
  for (const adapters::manifest_yaml::DocumentText& part : adapters::manifest_yaml::split_documents(text)) {
    try {
      for (const Node& root : tree.parse(part.text)) {
        if (!root.is_null()) {
          reading.documents.push_back(describe(NodeView(root)));
        }
      }
    } catch (const YAML::Exception& error) {
      if (reading.error.empty()) {
        reading.error = std::to_string(part.first_line + error.mark.line + 1) + ":" +
                        std::to_string(error.mark.column + 1) + ": " + error.msg;
      }
    }
  }
  for (const model::Diagnostic& diagnostic : adapters::parse_manifests(text, "m.yaml", 1).diagnostics) {
    if (diagnostic.message.starts_with("invalid yaml: ")) {
      reading.diagnostic = diagnostic.to_string();
      break;
    }
  }
  return reading;
}

std::string serialize(const MxctlReading& reading) {
  std::string out;
  put(out, reading.error);
  put(out, reading.diagnostic);
  put(out, std::to_string(reading.documents.size()));
  for (const std::string& document : reading.documents) {
    put(out, document);
  }
  return out;
}

MxctlReading parse_reading(std::string_view& in) {
  MxctlReading reading;
  reading.error = take(in);
  reading.diagnostic = take(in);
  const std::size_t documents = std::stoul(take(in));
  for (std::size_t i = 0; i < documents; ++i) {
    reading.documents.push_back(take(in));
  }
  return reading;
}

std::string disagreement(const std::string& text, const MxctlReading& mxctl, std::map<std::string, int>& tally) {
  static const std::regex k_positioned(R"(^m\.yaml:[1-9][0-9]*:[1-9][0-9]*: invalid yaml: .+)");
  const bool rejected = !mxctl.error.empty();
  if (rejected != !mxctl.diagnostic.empty()) {
    return "the tree says [" + mxctl.error + "] but the loader says [" + mxctl.diagnostic + "]";
  }
  if (rejected && !std::regex_match(mxctl.diagnostic, k_positioned)) {
    return "rejected without a position: " + mxctl.diagnostic;
  }
  const Reading libyaml = read_with_libyaml(rewrite_for_libyaml(text));
  // A quote that never closes is reported where it opens, as libyaml does.
  constexpr std::string_view k_open_quote = "while scanning a quoted scalar at ";
  const std::size_t context = libyaml.error.find(k_open_quote);
  if (context != std::string::npos && mxctl.error.find("quoted string not closed") != std::string::npos) {
    const int libyaml_line = std::stoi(libyaml.error.substr(context + k_open_quote.size()));
    if (std::stoi(mxctl.error) != libyaml_line) {
      return "an open quote reported at " + mxctl.error + ", but libyaml says " + libyaml.error;
    }
    ++tally["open quotes reported on the line libyaml names"];
  }
  if (!libyaml.error.empty() && !rejected) {
    if (const std::string name = libyaml_stricter_than_yaml(text, libyaml.error); !name.empty()) {
      ++tally["libyaml: " + name];
      return "";
    }
    return "accepted, but libyaml says " + libyaml.error;
  }
  if (libyaml.error.empty() && rejected) {
    for (const auto& [message, name] : k_stricter_than_yaml) {
      if (mxctl.error.find(message) != std::string::npos) {
        ++tally["mxctl: " + name];
        return "";
      }
    }
    // yaml-cpp ends a root plain scalar that follows a tag or an anchor at
    // its line's end (`!t a` / `b` is one scalar, "a b", to YAML) and starts
    // a second document there, which mxctl refuses ("unexpected content",
    // or an open quote when the next line starts with one). A root scalar
    // is no manifest: the file is rejected either way, only the message
    // differs.
    if (std::any_of(libyaml.documents.begin(), libyaml.documents.end(),
                    [](const std::string& root) { return root.front() != '{' && root.front() != '['; })) {
      ++tally["yaml-cpp: a multi-line root scalar after a property (refused; no manifest)"];
      return "";
    }
    // libyaml takes a block scalar whose indicator starts a line at the
    // indentation of the "-" or key above for that entry's value (`-` /
    // `>`, `k:` / `|`); YAML 1.2 wants it indented, and yaml-cpp starts a
    // document or reads the value where mxctl refuses it.
    if (mxctl.error.find("unexpected content after the end of the document") != std::string::npos ||
        mxctl.error.find("a value on its own line must be indented more than its key") != std::string::npos) {
      const std::string at = line_of(text, std::stoi(mxctl.error));
      const std::size_t first = at.find_first_not_of(' ');
      if (first != std::string::npos && (at[first] == '|' || at[first] == '>')) {
        ++tally["libyaml: a block scalar not indented under its parent (lenient)"];
        return "";
      }
    }
    // YAML 1.2 has no '!' in a tag's suffix (`!!a!b`); libyaml takes it.
    if (mxctl.error.find("invalid character in a tag") != std::string::npos && char_at(text, mxctl.error) == '!') {
      ++tally["libyaml: '!' in a tag's suffix (lenient)"];
      return "";
    }
    if (std::none_of(std::begin(k_mxctl_checks), std::end(k_mxctl_checks),
                     [&](std::string_view check) { return mxctl.error.find(check) != std::string::npos; })) {
      ++tally["yaml-cpp: rejects what libyaml accepts (safe)"];
      return "";
    }
    return "rejected, but libyaml accepts: " + mxctl.diagnostic;
  }
  if (!rejected && mxctl.documents != libyaml.documents) {
    std::string shown = "read differently:";
    for (std::size_t i = 0; i < std::max(mxctl.documents.size(), libyaml.documents.size()); ++i) {
      const std::string ours = i < mxctl.documents.size() ? mxctl.documents[i] : "(none)";
      const std::string theirs = i < libyaml.documents.size() ? libyaml.documents[i] : "(none)";
      if (ours != theirs) {
        shown += "\n  mxctl:   " + ours.substr(0, 300) + "\n  libyaml: " + theirs.substr(0, 300);
        break;
      }
    }
    return shown;
  }
  return "";
}

}  // namespace tests::yaml_differential

#include "tests/yaml_differential/libyaml_reference.h"

#include <deque>
#include <map>

#include <yaml.h>

#include "tests/yaml_differential/describe.h"

namespace tests::yaml_differential {

namespace {

// A node built from libyaml's events; aliases share the anchored node (which
// may contain itself, so nodes live in the builder, not in their parents).
struct Built {
  Kind kind = Kind::null;
  std::string tag;
  std::string text;
  std::vector<const Built*> children;
};

// How describe() sees a Built.
class BuiltView {
 public:
  explicit BuiltView(const Built& node) : m_node(&node) {}
  Kind kind() const { return m_node->kind; }
  std::string_view tag() const { return m_node->tag; }
  std::string_view text() const { return m_node->text; }
  std::size_t size() const { return m_node->children.size(); }
  BuiltView child(std::size_t index) const { return BuiltView(*m_node->children[index]); }

 private:
  const Built* m_node;
};

// yaml-cpp's rule, which mxctl inherits: an untagged plain scalar spelled as
// a YAML null is null.
bool is_null_text(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

std::string position(const yaml_mark_t& mark) {
  return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

class Builder {
 public:
  /// Handles one event; false once the stream is over.
  bool handle(const yaml_event_t& event, Reading& reading) {
    switch (event.type) {
      case YAML_DOCUMENT_START_EVENT:
        m_anchors.clear();
        m_open.clear();
        m_root = nullptr;
        break;
      case YAML_DOCUMENT_END_EVENT:
        if (m_root && m_root->kind != Kind::null) {
          reading.documents.push_back(describe(BuiltView(*m_root)));
        }
        break;
      case YAML_ALIAS_EVENT: {
        const auto found = m_anchors.find(reinterpret_cast<const char*>(event.data.alias.anchor));
        if (found == m_anchors.end()) {
          reading.error = position(event.start_mark) + ": found undefined alias";
          return false;
        }
        complete(found->second);
        break;
      }
      case YAML_SCALAR_EVENT: {
        auto node = make();
        const auto& scalar = event.data.scalar;
        const std::string text(reinterpret_cast<const char*>(scalar.value), scalar.length);
        const bool plain = scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (scalar.tag != nullptr) {
          node->kind = Kind::scalar;
          node->tag = reinterpret_cast<const char*>(scalar.tag);
        } else if (plain && is_null_text(text)) {
          node->kind = Kind::null;
        } else {
          node->kind = Kind::scalar;
          node->tag = plain ? "?" : "!";
        }
        node->text = text;
        anchor(scalar.anchor, node);
        complete(node);
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
        open(Kind::list, event.data.sequence_start.anchor);
        break;
      case YAML_MAPPING_START_EVENT:
        open(Kind::map, event.data.mapping_start.anchor);
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Built* done = m_open.back();
        m_open.pop_back();
        complete(done);
        break;
      }
      case YAML_STREAM_END_EVENT:
        return false;
      default:
        break;
    }
    return true;
  }

 private:
  Built* make() { return &m_nodes.emplace_back(); }

  void anchor(const yaml_char_t* name, const Built* node) {
    if (name != nullptr) {
      m_anchors[reinterpret_cast<const char*>(name)] = node;
    }
  }

  void open(Kind kind, const yaml_char_t* name) {
    auto node = make();
    node->kind = kind;
    anchor(name, node);
    m_open.push_back(node);
  }

  void complete(const Built* node) {
    if (m_open.empty()) {
      m_root = node;
    } else {
      m_open.back()->children.push_back(node);
    }
  }

  std::deque<Built> m_nodes;
  std::map<std::string, const Built*> m_anchors;
  std::vector<Built*> m_open;
  const Built* m_root = nullptr;
};

struct Line {
  std::string_view text;  // without its line break
  std::string_view end;   // the line break ("\n", "\r\n" or "")
};

std::vector<Line> lines_of(std::string_view text) {
  std::vector<Line> lines;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    std::string_view end = newline == std::string_view::npos ? "" : text.substr(newline, 1);
    if (line.ends_with('\r') && !end.empty()) {
      line.remove_suffix(1);
      end = text.substr(newline - 1, 2);
    }
    lines.push_back(Line{line, end});
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  }
  return lines;
}

bool is_blank_or_comment(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

// A "..." marker with nothing but blanks or a comment after it.
bool is_end_marker(std::string_view line) {
  if (!line.starts_with("...")) {
    return false;
  }
  const std::size_t next = line.find_first_not_of(" \t", 3);
  return next == std::string_view::npos || (next > 3 && line[next] == '#');
}

// Whether the lines right above line `i` (blank lines and comments aside)
// are directives: '%' lines at the start of the stream or after a "..."
// line. Elsewhere a '%' line is content to YAML 1.2 (a plain scalar going
// on), though libyaml takes any '%' in the first column for a directive.
bool after_directives(const std::vector<Line>& lines, std::size_t i) {
  bool directive = false;
  for (std::size_t at = i; at > 0; --at) {
    const std::string_view line = lines[at - 1].text;
    if (is_blank_or_comment(line)) {
      continue;
    }
    if (!line.starts_with('%')) {
      return directive && is_end_marker(line);
    }
    directive = true;
  }
  return directive;
}

}  // namespace

std::string rewrite_for_libyaml(std::string_view text) {
  const std::vector<Line> lines = lines_of(text);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string line(lines[i].text);
    if (is_blank_or_comment(line)) {
      const std::size_t first = line.find_first_not_of(" \t");
      for (std::size_t c = 0; c < std::min(first, line.size()); ++c) {
        line[c] = ' ';
      }
    } else if (is_end_marker(line)) {
      std::size_t next = i + 1;
      while (next < lines.size() && is_blank_or_comment(lines[next].text)) {
        ++next;
      }
      // After directives a "..." is an error, which "---" would mend.
      if (!after_directives(lines, i) && (next == lines.size() || !lines[next].text.starts_with('%'))) {
        line.replace(0, 3, "---");
      }
    }
    out.append(line).append(lines[i].end);
  }
  return out;
}

Reading read_with_libyaml(std::string_view text) {
  Reading reading;
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) {
    reading.error = "cannot initialise libyaml";
    return reading;
  }
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  Builder builder;
  while (true) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      reading.error = position(parser.problem_mark) + ": " + (parser.problem != nullptr ? parser.problem : "error");
      if (parser.context != nullptr) {
        reading.error += std::string(" (") + parser.context + " at " + position(parser.context_mark) + ")";
      }
      break;
    }
    const bool more = builder.handle(event, reading);
    yaml_event_delete(&event);
    if (!more) {
      break;
    }
  }
  yaml_parser_delete(&parser);
  if (!reading.error.empty()) {
    reading.documents.clear();
  }
  return reading;
}

}  // namespace tests::yaml_differential

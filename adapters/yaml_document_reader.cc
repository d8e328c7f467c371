#include "adapters/yaml_document_reader.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "model/suggest.h"

namespace adapters::manifest_yaml {

using model::Origin;
using model::SourceLocation;

namespace {

// Plain scalars are untagged ("?"); quoted ones are tagged "!" and are strings
// even when they look like numbers or booleans.
bool is_plain(const YAML::Node& node, std::string_view core_tag) {
  return node.IsScalar() && (node.Tag() == "?" || node.Tag() == "tag:yaml.org,2002:" + std::string(core_tag));
}

}  // namespace

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string item(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }

// Messages name spec fields as the user thinks of them ("members[1].trust"),
// while Origin keys keep the full path ("spec.members[1].trust").
std::string shown(const std::string& path) { return path.starts_with("spec.") ? path.substr(5) : path; }

// YAML null (`key:` or `key: ~`) counts as absent, as in Kubernetes manifests.
bool present(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

std::string got(const YAML::Node& node) {
  if (node.IsMap()) {
    return "a mapping";
  }
  if (node.IsSequence()) {
    return "a list";
  }
  if (node.IsScalar()) {
    return node.Tag() == "!" ? "the string " + in_quotes(node.Scalar()) : in_quotes(node.Scalar());
  }
  return "nothing";
}

DocumentReader::DocumentReader(const std::string& file, int line_offset, model::Diagnostics& diagnostics)
    : m_file(file), m_line_offset(line_offset), m_diagnostics(diagnostics) {}

void DocumentReader::set_subject(std::string subject, Origin* origin) {
  m_subject = std::move(subject);
  m_origin = origin;
}

SourceLocation DocumentReader::at(const YAML::Mark& mark) const {
  if (mark.is_null()) {
    return SourceLocation{m_file, m_line_offset + 1, 1};
  }
  return SourceLocation{m_file, m_line_offset + mark.line + 1, mark.column + 1};
}

void DocumentReader::report(const SourceLocation& where, const std::string& message) {
  m_diagnostics.push_back(model::Diagnostic{where, m_subject + ": " + message});
}

void DocumentReader::check_fields(const YAML::Node& map, const std::string& path,
                                  const std::vector<std::string>& known) {
  std::map<std::string, YAML::Mark> seen;
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) {
      report(key, "field names must be plain text, got " + got(key));
      continue;
    }
    const std::string name = key.Scalar();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      report(key, "unknown field " + in_quotes(shown(child(path, name))) + model::did_you_mean(name, known));
    } else if (auto [it, inserted] = seen.emplace(name, key.Mark()); !inserted) {
      // yaml-cpp keeps both entries and lookups see only the first, so a
      // repeated key would otherwise be silently ignored.
      report(key, "field " + in_quotes(shown(child(path, name))) + " is given more than once (first at " +
                      at(it->second).to_string() + ")");
    }
  }
}

YAML::Node DocumentReader::field(const YAML::Node& map, const std::string& path, const std::string& key) {
  YAML::Node value = map[key];
  if (present(value)) {
    m_origin->fields[child(path, key)] = at(value);
  }
  return value;
}

bool DocumentReader::expect_map(const YAML::Node& node, const std::string& path) {
  if (node.IsMap()) {
    return true;
  }
  report(node, shown(path) + " must be a mapping, got " + got(node));
  return false;
}

bool DocumentReader::expect_list(const YAML::Node& node, const std::string& path) {
  if (node.IsSequence()) {
    return true;
  }
  report(node, shown(path) + " must be a list, got " + got(node));
  return false;
}

std::optional<std::string> DocumentReader::as_string(const YAML::Node& node, const std::string& path) {
  if (node.IsScalar()) {
    return node.Scalar();
  }
  report(node, shown(path) + " must be a string, got " + got(node));
  return std::nullopt;
}

std::optional<int> DocumentReader::as_int(const YAML::Node& node, const std::string& path) {
  if (is_plain(node, "int")) {
    std::string_view text = node.Scalar();
    if (text.starts_with('+')) {
      text.remove_prefix(1);
    }
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc::result_out_of_range) {
      report(node, shown(path) + " is out of range, got " + node.Scalar());
      return std::nullopt;
    }
    if (error == std::errc() && end == text.data() + text.size() && !text.empty()) {
      return value;
    }
  }
  report(node, shown(path) + " must be an integer, got " + got(node));
  return std::nullopt;
}

std::optional<bool> DocumentReader::as_bool(const YAML::Node& node, const std::string& path) {
  if (is_plain(node, "bool")) {
    const std::string& text = node.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") {
      return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
      return false;
    }
  }
  report(node, shown(path) + " must be true or false, got " + got(node));
  return std::nullopt;
}

std::optional<std::size_t> DocumentReader::as_choice(const YAML::Node& node, const std::string& path,
                                                     const std::vector<std::string>& values) {
  if (node.IsScalar()) {
    auto it = std::find(values.begin(), values.end(), node.Scalar());
    if (it != values.end()) {
      return static_cast<std::size_t>(it - values.begin());
    }
  }
  std::string expected;
  for (std::size_t i = 0; i < values.size(); ++i) {
    expected += (i == 0 ? "" : i + 1 == values.size() ? " or " : ", ") + in_quotes(values[i]);
  }
  report(node, shown(path) + " must be " + expected + ", got " + got(node));
  return std::nullopt;
}

void DocumentReader::read(const YAML::Node& map, const std::string& path, const std::string& key, std::string& out) {
  if (const YAML::Node value = field(map, path, key); present(value)) {
    out = as_string(value, child(path, key)).value_or(out);
  }
}

void DocumentReader::read(const YAML::Node& map, const std::string& path, const std::string& key,
                          std::optional<std::string>& out) {
  if (const YAML::Node value = field(map, path, key); present(value)) {
    out = as_string(value, child(path, key));
  }
}

void DocumentReader::read(const YAML::Node& map, const std::string& path, const std::string& key, bool& out) {
  if (const YAML::Node value = field(map, path, key); present(value)) {
    out = as_bool(value, child(path, key)).value_or(out);
  }
}

void DocumentReader::read(const YAML::Node& map, const std::string& path, const std::string& key, int& out) {
  if (const YAML::Node value = field(map, path, key); present(value)) {
    out = as_int(value, child(path, key)).value_or(out);
  }
}

void DocumentReader::read(const YAML::Node& map, const std::string& path, const std::string& key,
                          std::vector<std::string>& out) {
  const YAML::Node list = field(map, path, key);
  if (!present(list) || !expect_list(list, child(path, key))) {
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string entry_path = item(child(path, key), i);
    m_origin->fields[entry_path] = at(list[i]);
    // A malformed entry is kept as "" so that counts and indexes still
    // match the text; later checks on it land on the reported position.
    out.push_back(as_string(list[i], entry_path).value_or(""));
  }
}

}  // namespace adapters::manifest_yaml

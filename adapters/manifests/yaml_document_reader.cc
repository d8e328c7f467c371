#include "adapters/manifests/yaml_document_reader.h"

#include <algorithm>
#include <charconv>
#include <iterator>

#include "model/suggest.h"

namespace adapters::manifest_yaml {

using model::Origin;
using model::SourceLocation;

namespace {

// Plain scalars are untagged ("?"); quoted ones are tagged "!" and are strings
// even when they look like numbers or booleans.
bool is_plain(const Node& node, std::string_view core_tag) {
  if (!node.is_scalar()) {
    return false;
  }
  constexpr std::string_view k_core_prefix = "tag:yaml.org,2002:";
  const std::string_view tag = node.tag();
  return tag == "?" || (tag.size() == k_core_prefix.size() + core_tag.size() && tag.starts_with(k_core_prefix) &&
                        tag.ends_with(core_tag));
}

}  // namespace

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Built in one allocation: a path is made for every field read.
std::string child(const std::string& path, std::string_view key) {
  if (path.empty()) {
    return std::string(key);
  }
  std::string out;
  out.reserve(path.size() + 1 + key.size());
  out.append(path).append(1, '.').append(key);
  return out;
}

std::string item(const std::string& path, std::size_t index) {
  char digits[24];
  const auto [end, error] = std::to_chars(std::begin(digits), std::end(digits), index);
  std::string out;
  out.reserve(path.size() + static_cast<std::size_t>(end - digits) + 2);
  out.append(path).append(1, '[').append(digits, end).append(1, ']');
  return out;
}

// Messages name spec fields as the user thinks of them ("members[1].trust"),
// while Origin keys keep the full path ("spec.members[1].trust").
std::string shown(const std::string& path) { return path.starts_with("spec.") ? path.substr(5) : path; }

// YAML null (`key:` or `key: ~`) counts as absent, as in Kubernetes manifests.
bool present(const Node& node) { return !node.is_null(); }

std::string got(const Node& node) {
  if (node.is_map()) {
    return "a mapping";
  }
  if (node.is_list()) {
    return "a list";
  }
  if (node.is_scalar()) {
    return node.tag() == "!" ? "the string " + in_quotes(node.scalar()) : in_quotes(node.scalar());
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

void DocumentReader::check_fields(const Node& map, const std::string& path, const std::vector<std::string>& known) {
  constexpr std::size_t k_unseen = static_cast<std::size_t>(-1);
  // Per known field, the entry that first gave it.
  std::vector<std::size_t> first(known.size(), k_unseen);
  const std::size_t entries = map.size();
  for (std::size_t i = 0; i < entries; ++i) {
    const Node key = map.key(i);
    if (!key.is_scalar()) {
      report(key, "field names must be plain text, got " + got(key));
      continue;
    }
    const std::string_view name = key.scalar();
    const auto known_at = std::find(known.begin(), known.end(), name);
    if (known_at == known.end()) {
      report(key, "unknown field " + in_quotes(shown(child(path, name))) + model::did_you_mean(name, known));
    } else if (std::size_t& seen = first[static_cast<std::size_t>(known_at - known.begin())]; seen == k_unseen) {
      seen = i;
    } else {
      // The document keeps both entries and lookups see only the first, so
      // a repeated key would otherwise be silently ignored.
      report(key, "field " + in_quotes(shown(child(path, name))) + " is given more than once (first at " +
                      at(map.key(seen)).to_string() + ")");
    }
  }
}

const std::string& DocumentReader::record(const std::string& path, std::string_view key, const Node& value) {
  // Keyed by a moved path, and the map's own key returned, so that a field
  // read costs one path string; map keys stay put while the Origin lives.
  return m_origin->fields.insert_or_assign(child(path, key), at(value)).first->first;
}

Node DocumentReader::field(const Node& map, const std::string& path, std::string_view key) {
  const Node value = map.find(key);
  if (present(value)) {
    record(path, key, value);
  }
  return value;
}

bool DocumentReader::expect_map(const Node& node, const std::string& path) {
  if (node.is_map()) {
    return true;
  }
  report(node, shown(path) + " must be a mapping, got " + got(node));
  return false;
}

bool DocumentReader::expect_list(const Node& node, const std::string& path) {
  if (node.is_list()) {
    return true;
  }
  report(node, shown(path) + " must be a list, got " + got(node));
  return false;
}

std::optional<std::string> DocumentReader::as_string(const Node& node, const std::string& path) {
  if (node.is_scalar()) {
    return std::string(node.scalar());
  }
  report(node, shown(path) + " must be a string, got " + got(node));
  return std::nullopt;
}

std::optional<int> DocumentReader::as_int(const Node& node, const std::string& path) {
  if (is_plain(node, "int")) {
    std::string_view text = node.scalar();
    if (text.starts_with('+')) {
      text.remove_prefix(1);
    }
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc::result_out_of_range) {
      report(node, shown(path) + " is out of range, got " + std::string(node.scalar()));
      return std::nullopt;
    }
    if (error == std::errc() && end == text.data() + text.size() && !text.empty()) {
      return value;
    }
  }
  report(node, shown(path) + " must be an integer, got " + got(node));
  return std::nullopt;
}

std::optional<bool> DocumentReader::as_bool(const Node& node, const std::string& path) {
  if (is_plain(node, "bool")) {
    const std::string_view text = node.scalar();
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

std::optional<std::size_t> DocumentReader::as_choice(const Node& node, const std::string& path,
                                                     const std::vector<std::string>& values) {
  if (node.is_scalar()) {
    auto it = std::find(values.begin(), values.end(), node.scalar());
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

void DocumentReader::read(const Node& map, const std::string& path, std::string_view key, std::string& out) {
  if (const Node value = map.find(key); present(value)) {
    out = as_string(value, record(path, key, value)).value_or(out);
  }
}

void DocumentReader::read(const Node& map, const std::string& path, std::string_view key,
                          std::optional<std::string>& out) {
  if (const Node value = map.find(key); present(value)) {
    out = as_string(value, record(path, key, value));
  }
}

void DocumentReader::read(const Node& map, const std::string& path, std::string_view key, bool& out) {
  if (const Node value = map.find(key); present(value)) {
    out = as_bool(value, record(path, key, value)).value_or(out);
  }
}

void DocumentReader::read(const Node& map, const std::string& path, std::string_view key, int& out) {
  if (const Node value = map.find(key); present(value)) {
    out = as_int(value, record(path, key, value)).value_or(out);
  }
}

void DocumentReader::read(const Node& map, const std::string& path, std::string_view key,
                          std::vector<std::string>& out) {
  const Node list = map.find(key);
  if (!present(list)) {
    return;
  }
  const std::string& list_path = record(path, key, list);
  if (!expect_list(list, list_path)) {
    return;
  }
  const std::size_t size = list.size();
  out.reserve(out.size() + size);
  for (std::size_t i = 0; i < size; ++i) {
    const Node entry = list.item(i);
    const std::string& entry_path = m_origin->fields.insert_or_assign(item(list_path, i), at(entry)).first->first;
    // A malformed entry is kept as "" so that counts and indexes still
    // match the text; later checks on it land on the reported position.
    out.push_back(as_string(entry, entry_path).value_or(""));
  }
}

}  // namespace adapters::manifest_yaml

#include "adapters/yaml_document_reader.h"

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
bool is_plain(const YAML::Node& node, std::string_view core_tag) {
  if (!node.IsScalar()) {
    return false;
  }
  constexpr std::string_view k_core_prefix = "tag:yaml.org,2002:";
  const std::string& tag = node.Tag();
  return tag == "?" || (tag.size() == k_core_prefix.size() + core_tag.size() && tag.starts_with(k_core_prefix) &&
                        tag.ends_with(core_tag));
}

// What a lookup of a field that was not given returns: a null node, so that
// present() is false, and with no memory of its own to allocate.
const YAML::Node k_absent;

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

Fields::Fields(const YAML::Node& map) {
  m_entries.reserve(map.size());
  for (const auto& pair : map) {
    // Constructed, not assigned: assigning to a yaml-cpp node that is bound
    // writes through to the node it refers to.
    Entry& entry = m_entries.emplace_back(Entry{pair.first, pair.second, {}, pair.first.IsScalar()});
    if (entry.scalar) {
      // Points into the key node, which `entry.key` keeps alive.
      entry.name = entry.key.Scalar();
    }
  }
}

const YAML::Node& Fields::operator[](std::string_view key) const {
  // The first entry wins, as with yaml-cpp's lookup; check_fields reports the others.
  for (const Entry& entry : m_entries) {
    if (entry.scalar && entry.name == key) {
      return entry.value;
    }
  }
  return k_absent;
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

void DocumentReader::check_fields(const Fields& fields, const std::string& path,
                                  const std::vector<std::string>& known) {
  constexpr std::size_t k_unseen = static_cast<std::size_t>(-1);
  // Per known field, the entry that first gave it.
  std::vector<std::size_t> first(known.size(), k_unseen);
  for (std::size_t i = 0; i < fields.m_entries.size(); ++i) {
    const Fields::Entry& entry = fields.m_entries[i];
    if (!entry.scalar) {
      report(entry.key, "field names must be plain text, got " + got(entry.key));
      continue;
    }
    const auto known_at = std::find(known.begin(), known.end(), entry.name);
    if (known_at == known.end()) {
      report(entry.key, "unknown field " + in_quotes(shown(child(path, entry.name))) +
                            model::did_you_mean(entry.name, known));
    } else if (std::size_t& seen = first[static_cast<std::size_t>(known_at - known.begin())]; seen == k_unseen) {
      seen = i;
    } else {
      // yaml-cpp keeps both entries and lookups see only the first, so a
      // repeated key would otherwise be silently ignored.
      report(entry.key, "field " + in_quotes(shown(child(path, entry.name))) + " is given more than once (first at " +
                            at(fields.m_entries[seen].key).to_string() + ")");
    }
  }
}

const std::string& DocumentReader::record(const std::string& path, std::string_view key, const YAML::Node& value) {
  // Keyed by a moved path, and the map's own key returned, so that a field
  // read costs one path string; map keys stay put while the Origin lives.
  return m_origin->fields.insert_or_assign(child(path, key), at(value)).first->first;
}

YAML::Node DocumentReader::field(const Fields& fields, const std::string& path, std::string_view key) {
  const YAML::Node& value = fields[key];
  if (present(value)) {
    record(path, key, value);
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

void DocumentReader::read(const Fields& fields, const std::string& path, std::string_view key, std::string& out) {
  if (const YAML::Node& value = fields[key]; present(value)) {
    out = as_string(value, record(path, key, value)).value_or(out);
  }
}

void DocumentReader::read(const Fields& fields, const std::string& path, std::string_view key,
                          std::optional<std::string>& out) {
  if (const YAML::Node& value = fields[key]; present(value)) {
    out = as_string(value, record(path, key, value));
  }
}

void DocumentReader::read(const Fields& fields, const std::string& path, std::string_view key, bool& out) {
  if (const YAML::Node& value = fields[key]; present(value)) {
    out = as_bool(value, record(path, key, value)).value_or(out);
  }
}

void DocumentReader::read(const Fields& fields, const std::string& path, std::string_view key, int& out) {
  if (const YAML::Node& value = fields[key]; present(value)) {
    out = as_int(value, record(path, key, value)).value_or(out);
  }
}

void DocumentReader::read(const Fields& fields, const std::string& path, std::string_view key,
                          std::vector<std::string>& out) {
  const YAML::Node& list = fields[key];
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
    const YAML::Node entry = list[i];
    const std::string& entry_path = m_origin->fields.insert_or_assign(item(list_path, i), at(entry)).first->first;
    // A malformed entry is kept as "" so that counts and indexes still
    // match the text; later checks on it land on the reported position.
    out.push_back(as_string(entry, entry_path).value_or(""));
  }
}

}  // namespace adapters::manifest_yaml

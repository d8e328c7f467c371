#include "tests/support/spec_schema.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace spec {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// ---- YAML to JSON -----------------------------------------------------------

// A plain (unquoted) scalar typed by the YAML 1.2 core schema. yaml-cpp leaves
// typing to the caller, and its as<bool>() would also take "yes"/"on", which
// the spec means as strings.
json plain_scalar(const std::string& text) {
  static const std::regex k_integer("[-+]?[0-9]+");
  static const std::regex k_float(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") {
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    return false;
  }
  if (std::regex_match(text, k_integer)) {
    const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
    std::int64_t value = 0;
    if (std::from_chars(begin, text.data() + text.size(), value).ec == std::errc{}) {
      return value;
    }
    std::uint64_t big = 0;
    if (std::from_chars(begin, text.data() + text.size(), big).ec == std::errc{}) {
      return big;
    }
    return std::stod(text);
  }
  if (std::regex_match(text, k_float)) {
    return std::stod(text);
  }
  return text;
}

json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      // "!" marks quoted and block scalars, which are strings whatever they
      // look like ("1", "true"); explicit !!str likewise.
      const std::string& tag = node.Tag();
      if (tag == "!" || tag == "tag:yaml.org,2002:str") {
        return node.Scalar();
      }
      return plain_scalar(node.Scalar());
    }
    case YAML::NodeType::Sequence: {
      json array = json::array();
      for (const YAML::Node& item : node) {
        array.push_back(to_json(item));
      }
      return array;
    }
    case YAML::NodeType::Map: {
      json object = json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          throw std::runtime_error("yaml map key at line " + std::to_string(entry.first.Mark().line + 1) +
                                   " is not a scalar");
        }
        object[entry.first.Scalar()] = to_json(entry.second);
      }
      return object;
    }
  }
  return nullptr;
}

// ---- Document cache ---------------------------------------------------------

// Documents are immutable once loaded and never evicted, so SchemaRefs may
// hold raw pointers into them for the life of the process.
struct Cache {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<const json>> files;
  std::vector<std::unique_ptr<const json>> inline_documents;
  std::map<std::string, std::regex> regexes;
};

Cache& cache() {
  static Cache instance;
  return instance;
}

// With MXCTL_SPEC_TRACE set, appends each file read to that file, one path a
// line: how scripts/refresh-spec-subset learns which files the tests need.
// Called with the cache lock held, so lines from threads never interleave.
void record_load(const fs::path& absolute) {
  if (const char* trace = std::getenv("MXCTL_SPEC_TRACE"); trace && *trace) {
    std::ofstream(trace, std::ios::app) << absolute.string() << '\n';
  }
}

fs::path absolute_in_data(const fs::path& file) {
  return (file.is_absolute() ? file : data_dir() / file).lexically_normal();
}

const json& load_document(const fs::path& absolute) {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  auto found = c.files.find(absolute.string());
  if (found != c.files.end()) {
    return *found->second;
  }
  if (!fs::exists(absolute)) {
    throw std::runtime_error("spec file not found: " + absolute.string() +
                             " (the tests' subset of the spec is tests/spec/; see its README to refresh it)");
  }
  record_load(absolute);
  try {
    auto document = std::make_unique<const json>(to_json(YAML::LoadFile(absolute.string())));
    return *c.files.emplace(absolute.string(), std::move(document)).first->second;
  } catch (const YAML::Exception& error) {
    throw std::runtime_error(absolute.string() + ": " + error.what());
  }
}

const std::regex& cached_regex(const std::string& pattern) {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  auto found = c.regexes.find(pattern);
  if (found == c.regexes.end()) {
    try {
      found = c.regexes.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    } catch (const std::regex_error& error) {
      throw std::runtime_error("schema pattern \"" + pattern + "\" is not a valid regex: " + error.what());
    }
  }
  return found->second;
}

// URI fragments may percent-encode characters of a JSON pointer.
std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

SchemaRef at_pointer(const fs::path& file, const json& document, const std::string& pointer) {
  json::json_pointer parsed(pointer);
  if (!document.contains(parsed)) {
    throw std::runtime_error("spec file " + file.string() + " has nothing at \"" + pointer + "\"");
  }
  return SchemaRef{file, &document, &document.at(parsed)};
}

// Resolves a "$ref" value ("file", "file#/pointer" or "#/pointer") found in `from`.
SchemaRef resolve_ref(const SchemaRef& from, const std::string& ref) {
  std::size_t hash = ref.find('#');
  std::string file_part = ref.substr(0, hash);
  std::string fragment = hash == std::string::npos ? "" : percent_decode(ref.substr(hash + 1));
  if (file_part.empty()) {
    return at_pointer(from.file, *from.document, fragment);
  }
  fs::path target = (from.file.parent_path() / file_part).lexically_normal();
  return at_pointer(target, load_document(target), fragment);
}

// Follows OpenAPI-level "$ref"s (responses, request bodies, example objects).
SchemaRef deref(SchemaRef at) {
  for (int hops = 0; at.node->is_object() && at.node->contains("$ref"); ++hops) {
    if (hops > 32) {
      throw std::runtime_error("$ref chain too long in " + at.file.string());
    }
    at = resolve_ref(at, at.node->at("$ref").get<std::string>());
  }
  return at;
}

SchemaRef child(const SchemaRef& parent, const std::string& key) {
  SchemaRef here = deref(parent);
  if (!here.node->is_object() || !here.node->contains(key)) {
    throw std::runtime_error("spec file " + here.file.string() + " has no \"" + key + "\" where expected");
  }
  return SchemaRef{here.file, here.document, &here.node->at(key)};
}

// ---- Examples ---------------------------------------------------------------

json resolve_example(const json& value, const fs::path& file, int depth = 0) {
  if (depth > 32) {
    throw std::runtime_error("example $ref nesting too deep in " + file.string());
  }
  if (value.is_array()) {
    json out = json::array();
    for (const json& item : value) {
      out.push_back(resolve_example(item, file, depth + 1));
    }
    return out;
  }
  if (!value.is_object()) {
    return value;
  }
  json own = json::object();
  for (const auto& [key, item] : value.items()) {
    if (key != "$ref") {
      own[key] = resolve_example(item, file, depth + 1);
    }
  }
  auto ref = value.find("$ref");
  if (ref == value.end() || !ref->is_string()) {
    return own;
  }
  SchemaRef from{file, &load_document(file), &value};
  SchemaRef target = resolve_ref(from, ref->get<std::string>());
  // A shallow merge, as the spec's own example checker does: an example that
  // gives `content` replaces the referenced one's wholesale (m.receipt relies
  // on that to drop core/event.json's placeholder content).
  json merged = resolve_example(*target.node, target.file, depth + 1);
  for (const auto& [key, item] : own.items()) {
    merged[key] = item;
  }
  return merged;
}

std::vector<json> media_examples(const SchemaRef& media_at) {
  SchemaRef media = deref(media_at);
  std::vector<json> out;
  if (media.node->contains("schema")) {
    SchemaRef schema = deref(child(media, "schema"));
    if (schema.node->contains("example")) {
      out.push_back(resolve_example(schema.node->at("example"), schema.file));
    }
  }
  if (media.node->contains("example")) {
    out.push_back(resolve_example(media.node->at("example"), media.file));
  }
  if (media.node->contains("examples")) {
    for (const auto& entry : media.node->at("examples").items()) {
      SchemaRef example = deref(SchemaRef{media.file, media.document, &entry.value()});
      if (example.node->contains("value")) {
        out.push_back(resolve_example(example.node->at("value"), example.file));
      }
    }
  }
  return out;
}

SchemaRef operation_at(const std::string& api_file, const std::string& path, const std::string& method) {
  return child(child(child(schema_at(fs::path("api") / api_file), "paths"), path), method);
}

SchemaRef request_media(const std::string& api_file, const std::string& path, const std::string& method) {
  return child(child(child(operation_at(api_file, path, method), "requestBody"), "content"), "application/json");
}

SchemaRef response_media(const std::string& api_file, const std::string& path, const std::string& method,
                         int status) {
  SchemaRef responses = child(operation_at(api_file, path, method), "responses");
  return child(child(child(responses, std::to_string(status)), "content"), "application/json");
}

// ---- Validation -------------------------------------------------------------

std::string pointer_token(const std::string& key) {
  std::string out;
  for (char ch : key) {
    if (ch == '~') {
      out += "~0";
    } else if (ch == '/') {
      out += "~1";
    } else {
      out += ch;
    }
  }
  return out;
}

std::string type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

// Values are quoted in messages, shortened so one bad sync body stays readable.
std::string show(const json& value) {
  std::string text = value.dump();
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

bool has_type(const json& value, const std::string& type) {
  if (type == "integer") {
    // JSON Schema counts 5.0 as an integer: the type is mathematical.
    return value.is_number_integer() ||
           (value.is_number_float() && std::isfinite(value.get<double>()) &&
            std::floor(value.get<double>()) == value.get<double>());
  }
  if (type == "number") {
    return value.is_number();
  }
  if (type == "string" || type == "boolean" || type == "null" || type == "array" || type == "object") {
    return type_name(value) == type;
  }
  throw std::runtime_error("schema names unknown type \"" + type + "\"");
}

// Lengths are in characters (code points), not UTF-8 bytes.
std::size_t code_points(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

class Validator {
 public:
  explicit Validator(std::vector<std::string>& errors) : m_errors(&errors) {}

  void check(const json& value, const SchemaRef& schema, const std::string& path) {
    const json& s = *schema.node;
    if (s.is_boolean()) {
      if (!s.get<bool>()) {
        fail(path, "no value is allowed here");
      }
      return;
    }
    if (!s.is_object()) {
      throw std::runtime_error("schema in " + schema.file.string() + " is neither an object nor a boolean");
    }
    if (auto ref = s.find("$ref"); ref != s.end()) {
      check_ref(value, schema, ref->get<std::string>(), path);
    }
    // A wrong type makes every type-specific complaint noise, so stop here.
    if (!check_type(value, s, path)) {
      return;
    }
    if (auto options = s.find("enum"); options != s.end()) {
      if (std::none_of(options->begin(), options->end(), [&](const json& option) { return option == value; })) {
        fail(path, show(value) + " is not one of " + show(*options));
      }
    }
    if (auto expected = s.find("const"); expected != s.end() && *expected != value) {
      fail(path, "expected " + show(*expected) + ", got " + show(value));
    }
    check_combinators(value, schema, path);
    if (value.is_object()) {
      check_object(value, schema, path);
    } else if (value.is_array()) {
      check_array(value, schema, path);
    } else if (value.is_number()) {
      check_number(value, s, path);
    } else if (value.is_string()) {
      check_string(value.get<std::string>(), s, path);
    }
  }

 private:
  void fail(const std::string& path, const std::string& message) {
    m_errors->push_back((path.empty() ? "/" : path) + ": " + message);
  }

  static SchemaRef sub(const SchemaRef& parent, const json& node) { return SchemaRef{parent.file, parent.document, &node}; }

  // Runs a sub-check into its own list, for combinators that judge alternatives.
  std::vector<std::string> collect(const json& value, const SchemaRef& schema, const std::string& path) {
    std::vector<std::string> errors;
    std::vector<std::string>* saved = std::exchange(m_errors, &errors);
    check(value, schema, path);
    m_errors = saved;
    return errors;
  }

  void check_ref(const json& value, const SchemaRef& schema, const std::string& ref, const std::string& path) {
    SchemaRef target = resolve_ref(schema, ref);
    // Recursive schemas are fine while each level consumes part of the
    // instance; the same schema on the same value again would never end.
    auto key = std::make_pair(target.node, &value);
    if (!m_active_refs.insert(key).second) {
      throw std::runtime_error("$ref cycle through \"" + ref + "\" in " + schema.file.string());
    }
    check(value, target, path);
    m_active_refs.erase(key);
  }

  bool check_type(const json& value, const json& s, const std::string& path) {
    auto type = s.find("type");
    if (type == s.end()) {
      return true;
    }
    if (type->is_string()) {
      if (!has_type(value, type->get<std::string>())) {
        fail(path, "expected " + type->get<std::string>() + ", got " + type_name(value));
        return false;
      }
      return true;
    }
    std::string names;
    for (const json& name : *type) {
      if (has_type(value, name.get<std::string>())) {
        return true;
      }
      names += (names.empty() ? "" : ", ") + name.get<std::string>();
    }
    fail(path, "expected one of " + names + ", got " + type_name(value));
    return false;
  }

  void check_combinators(const json& value, const SchemaRef& schema, const std::string& path) {
    const json& s = *schema.node;
    if (auto all = s.find("allOf"); all != s.end()) {
      for (const json& item : *all) {
        check(value, sub(schema, item), path);
      }
    }
    for (const char* keyword : {"anyOf", "oneOf"}) {
      auto alternatives = s.find(keyword);
      if (alternatives == s.end()) {
        continue;
      }
      std::string details;
      std::vector<std::size_t> matched;
      for (std::size_t i = 0; i < alternatives->size(); ++i) {
        std::vector<std::string> errors = collect(value, sub(schema, (*alternatives)[i]), path);
        if (errors.empty()) {
          matched.push_back(i);
        }
        for (const std::string& error : errors) {
          details += " [" + std::to_string(i) + "] " + error + ";";
        }
      }
      if (matched.empty()) {
        fail(path, std::string("matches none of the ") + keyword + " alternatives:" + details);
      } else if (std::string(keyword) == "oneOf" && matched.size() > 1) {
        fail(path, "matches " + std::to_string(matched.size()) + " oneOf alternatives, expected exactly one");
      }
    }
    if (auto negated = s.find("not"); negated != s.end() && collect(value, sub(schema, *negated), path).empty()) {
      fail(path, "must not match the \"not\" schema");
    }
  }

  void check_object(const json& value, const SchemaRef& schema, const std::string& path) {
    const json& s = *schema.node;
    for (const json& name : s.value("required", json::array())) {
      if (!value.contains(name.get<std::string>())) {
        fail(path, "missing required property \"" + name.get<std::string>() + "\"");
      }
    }
    static const json k_none = json::object();
    const json& properties = s.contains("properties") ? s.at("properties") : k_none;
    const json& patterns = s.contains("patternProperties") ? s.at("patternProperties") : k_none;
    auto additional = s.find("additionalProperties");
    for (const auto& [key, item] : value.items()) {
      std::string item_path = path + "/" + pointer_token(key);
      bool known = false;
      if (auto property = properties.find(key); property != properties.end()) {
        known = true;
        check(item, sub(schema, *property), item_path);
      }
      for (const auto& [pattern, pattern_schema] : patterns.items()) {
        if (std::regex_search(key, cached_regex(pattern))) {
          known = true;
          check(item, sub(schema, pattern_schema), item_path);
        }
      }
      if (known || additional == s.end()) {
        continue;
      }
      if (additional->is_boolean() && !additional->get<bool>()) {
        fail(item_path, "property not allowed (additionalProperties is false)");
      } else {
        check(item, sub(schema, *additional), item_path);
      }
    }
    if (s.contains("minProperties") && value.size() < s["minProperties"].get<std::size_t>()) {
      fail(path, "has " + std::to_string(value.size()) + " properties, fewer than minProperties " +
                     s["minProperties"].dump());
    }
    if (s.contains("maxProperties") && value.size() > s["maxProperties"].get<std::size_t>()) {
      fail(path, "has " + std::to_string(value.size()) + " properties, more than maxProperties " +
                     s["maxProperties"].dump());
    }
  }

  void check_array(const json& value, const SchemaRef& schema, const std::string& path) {
    const json& s = *schema.node;
    // Draft 2020-12 spells tuples prefixItems; older drafts used an items list.
    const json* prefix = s.contains("prefixItems") ? &s["prefixItems"] : nullptr;
    const json* rest = s.contains("items") ? &s["items"] : nullptr;
    if (rest != nullptr && rest->is_array()) {
      prefix = rest;
      rest = nullptr;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      std::string item_path = path + "/" + std::to_string(i);
      if (prefix != nullptr && i < prefix->size()) {
        check(value[i], sub(schema, (*prefix)[i]), item_path);
      } else if (rest != nullptr) {
        check(value[i], sub(schema, *rest), item_path);
      }
    }
    if (s.contains("minItems") && value.size() < s["minItems"].get<std::size_t>()) {
      fail(path, "has " + std::to_string(value.size()) + " items, fewer than minItems " + s["minItems"].dump());
    }
    if (s.contains("maxItems") && value.size() > s["maxItems"].get<std::size_t>()) {
      fail(path, "has " + std::to_string(value.size()) + " items, more than maxItems " + s["maxItems"].dump());
    }
    if (s.value("uniqueItems", false)) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        for (std::size_t j = i + 1; j < value.size(); ++j) {
          if (value[i] == value[j]) {
            fail(path, "items " + std::to_string(i) + " and " + std::to_string(j) + " are equal (uniqueItems)");
          }
        }
      }
    }
  }

  void check_number(const json& value, const json& s, const std::string& path) {
    double number = value.get<double>();
    auto bound = [&](const char* keyword, auto violates, const char* relation) {
      if (auto limit = s.find(keyword); limit != s.end() && limit->is_number() && violates(number, limit->get<double>())) {
        fail(path, show(value) + " is " + relation + " " + keyword + " " + show(*limit));
      }
    };
    bound("minimum", std::less<double>(), "less than");
    bound("maximum", std::greater<double>(), "greater than");
    bound("exclusiveMinimum", std::less_equal<double>(), "not greater than");
    bound("exclusiveMaximum", std::greater_equal<double>(), "not less than");
    if (auto divisor = s.find("multipleOf"); divisor != s.end()) {
      double quotient = number / divisor->get<double>();
      if (std::floor(quotient) != quotient) {
        fail(path, show(value) + " is not a multiple of " + show(*divisor));
      }
    }
  }

  void check_string(const std::string& value, const json& s, const std::string& path) {
    std::size_t length = code_points(value);
    if (s.contains("minLength") && length < s["minLength"].get<std::size_t>()) {
      fail(path, "string of length " + std::to_string(length) + " is shorter than minLength " +
                     s["minLength"].dump());
    }
    if (s.contains("maxLength") && length > s["maxLength"].get<std::size_t>()) {
      fail(path, "string of length " + std::to_string(length) + " is longer than maxLength " +
                     s["maxLength"].dump());
    }
    if (auto pattern = s.find("pattern"); pattern != s.end()) {
      // JSON Schema patterns are unanchored: search, not match.
      if (!std::regex_search(value, cached_regex(pattern->get<std::string>()))) {
        fail(path, show(json(value)) + " does not match pattern " + show(*pattern));
      }
    }
  }

  std::vector<std::string>* m_errors;
  std::set<std::pair<const json*, const json*>> m_active_refs;
};

}  // namespace

fs::path data_dir() {
  // Only scripts/refresh-spec-subset sets this, to run the tests against a
  // whole upstream spec and learn which files they need.
  if (const char* other = std::getenv("MXCTL_SPEC_DATA_DIR"); other && *other) {
    return fs::path(other).lexically_normal();
  }
  return fs::path(MXCTL_SPEC_DATA_DIR).lexically_normal();
}

json yaml_to_json(const std::string& text) {
  try {
    return to_json(YAML::Load(text));
  } catch (const YAML::Exception& error) {
    throw std::runtime_error(std::string("invalid yaml: ") + error.what());
  }
}

SchemaRef schema_at(const fs::path& file, const std::string& pointer) {
  fs::path absolute = absolute_in_data(file);
  return at_pointer(absolute, load_document(absolute), pointer);
}

SchemaRef schema_from_yaml(const std::string& text, const fs::path& base_file) {
  auto document = std::make_unique<const json>(yaml_to_json(text));
  const json* raw = document.get();
  {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    c.inline_documents.push_back(std::move(document));
  }
  return SchemaRef{absolute_in_data(base_file), raw, raw};
}

SchemaRef event_schema(const std::string& event_type) {
  return schema_at(fs::path("event-schemas") / "schema" / (event_type + ".yaml"));
}

SchemaRef request_schema(const std::string& api_file, const std::string& path, const std::string& method) {
  return child(request_media(api_file, path, method), "schema");
}

SchemaRef response_schema(const std::string& api_file, const std::string& path, const std::string& method,
                          int status) {
  return child(response_media(api_file, path, method, status), "schema");
}

std::vector<json> request_examples(const std::string& api_file, const std::string& path,
                                   const std::string& method) {
  return media_examples(request_media(api_file, path, method));
}

std::vector<json> response_examples(const std::string& api_file, const std::string& path,
                                    const std::string& method, int status) {
  return media_examples(response_media(api_file, path, method, status));
}

json event_example(const std::string& name) {
  fs::path file = absolute_in_data(fs::path("event-schemas") / "examples" / (name + ".yaml"));
  return resolve_example(load_document(file), file);
}

std::vector<std::string> validate(const json& instance, const SchemaRef& schema) {
  if (schema.node == nullptr || schema.document == nullptr) {
    throw std::runtime_error("validate() given an empty SchemaRef");
  }
  std::vector<std::string> errors;
  Validator(errors).check(instance, schema, "");
  // Diamond-shaped allOf chains (state_event reaches sync_room_event twice)
  // report one violation twice; keep the first of each.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (std::string& error : errors) {
    if (seen.insert(error).second) {
      unique.push_back(std::move(error));
    }
  }
  return unique;
}

}  // namespace spec

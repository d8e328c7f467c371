#include "adapters/yaml_manifests.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <streambuf>
#include <thread>
#include <tuple>

#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>

#include "adapters/yaml_document_reader.h"
#include "model/suggest.h"
#include "model/validate.h"

namespace adapters {

namespace {

using model::Origin;
using model::SourceLocation;
using manifest_yaml::DocumentReader;
using manifest_yaml::Node;
using manifest_yaml::child;
using manifest_yaml::got;
using manifest_yaml::in_quotes;
using manifest_yaml::item;
using manifest_yaml::present;
using manifest_yaml::shown;

const std::vector<std::string> k_kinds = {"User", "Community", "Council", "CoordinationRoom", "PowerPolicy"};
const std::vector<std::string> k_document_fields = {"apiVersion", "kind", "metadata", "spec"};
const std::vector<std::string> k_metadata_fields = {"name"};
const std::vector<std::string> k_user_fields = {"localpart", "displayName",    "avatarUrl",
                                                "admin",     "linkedAccounts", "deactivated", "protect"};
const std::vector<std::string> k_community_fields = {"name",    "topic",         "avatarUrl",   "generalRoom",
                                                     "members", "matrixEnabled", "powerPolicy", "archived", "protect"};
const std::vector<std::string> k_general_room_fields = {"name", "topic", "encrypted"};
const std::vector<std::string> k_community_member_fields = {"user", "trust", "role"};
const std::vector<std::string> k_community_roles = {"member", "admin"};
const std::vector<std::string> k_council_fields = {"community", "name", "topic", "members", "encrypted", "archived", "protect"};
const std::vector<std::string> k_council_member_fields = {"user", "role"};
const std::vector<std::string> k_council_roles = {"member", "chair"};
const std::vector<std::string> k_coordination_fields = {"between", "request", "message", "encrypted", "archived", "protect"};
const std::vector<std::string> k_policy_fields = {"bands", "adminLevel", "chairLevel", "thresholds"};
const std::vector<std::string> k_band_fields = {"minTrust", "level"};
const std::vector<std::string> k_threshold_fields = {"invite", "kick",          "ban",
                                                     "redact", "eventsDefault", "stateDefault"};
// FT-17 UC-1: the context message sent when the coordination room is created.
constexpr std::string_view k_default_coordination_message = "Request accepted! Coordinate delivery for: ";

// The label messages use for a kind ("CoordinationRoom" -> "coordination room").
std::string kind_label(std::string_view kind) {
  if (kind == "CoordinationRoom") {
    return "coordination room";
  }
  if (kind == "PowerPolicy") {
    return "power policy";
  }
  std::string label(kind);
  std::transform(label.begin(), label.end(), label.begin(), [](unsigned char c) { return std::tolower(c); });
  return label;
}


// The positions recorded under `prefix` ("spec.members[2].") re-keyed for a
// member's own Origin ("user", "trust").
Origin member_origin(const Origin& parent, const std::string& prefix, SourceLocation object) {
  Origin origin;
  origin.object = std::move(object);
  // Paths that start with `prefix` sort together, from where `prefix` itself
  // would go; scanning every field instead made a community with n members
  // cost n^2.
  for (auto it = parent.fields.lower_bound(prefix); it != parent.fields.end() && it->first.starts_with(prefix);
       ++it) {
    origin.fields.emplace_hint(origin.fields.end(), it->first.substr(prefix.size()), it->second);
  }
  return origin;
}

// Walks a list of member mappings, calling `read_member(entry, path)` for each.
template <typename ReadMember>
void read_members(DocumentReader& reader, const Node& spec, ReadMember read_member) {
  const Node list = reader.field(spec, "spec", "members");
  if (!present(list) || !reader.expect_list(list, "spec.members")) {
    return;
  }
  const std::size_t size = list.size();
  for (std::size_t i = 0; i < size; ++i) {
    const Node entry = list.item(i);
    const std::string path = item("spec.members", i);
    if (reader.expect_map(entry, path)) {
      read_member(entry, path);
    }
  }
}

void read_user(DocumentReader& reader, const Node& spec, model::User& user) {
  reader.check_fields(spec, "spec", k_user_fields);
  user.localpart = user.name;
  reader.read(spec, "spec", "localpart", user.localpart);
  reader.read(spec, "spec", "displayName", user.display_name);
  reader.read(spec, "spec", "avatarUrl", user.avatar_url);
  reader.read(spec, "spec", "admin", user.admin);
  reader.read(spec, "spec", "linkedAccounts", user.linked_accounts);
  reader.read(spec, "spec", "deactivated", user.deactivated);
  reader.read(spec, "spec", "protect", user.protect);
}

void read_community(DocumentReader& reader, const Node& spec, model::Community& community) {
  reader.check_fields(spec, "spec", k_community_fields);
  reader.read(spec, "spec", "name", community.display_name);
  reader.read(spec, "spec", "topic", community.topic);
  reader.read(spec, "spec", "avatarUrl", community.avatar_url);
  if (const Node room = reader.field(spec, "spec", "generalRoom");
      present(room) && reader.expect_map(room, "spec.generalRoom")) {
    reader.check_fields(room, "spec.generalRoom", k_general_room_fields);
    reader.read(room, "spec.generalRoom", "name", community.general_room.name);
    reader.read(room, "spec.generalRoom", "topic", community.general_room.topic);
    reader.read(room, "spec.generalRoom", "encrypted", community.general_room.encrypted);
  }
  read_members(reader, spec, [&](const Node& entry, const std::string& path) {
    reader.check_fields(entry, path, k_community_member_fields);
    model::CommunityMember member;
    reader.read(entry, path, "user", member.user);
    reader.read(entry, path, "trust", member.trust);
    if (const Node role = reader.field(entry, path, "role"); present(role)) {
      if (auto index = reader.as_choice(role, child(path, "role"), k_community_roles)) {
        member.role = *index == 0 ? model::CommunityRole::member : model::CommunityRole::admin;
      }
    }
    member.origin = member_origin(*reader.origin(), path + ".", reader.at(entry));
    community.members.push_back(std::move(member));
  });
  reader.read(spec, "spec", "matrixEnabled", community.matrix_enabled);
  reader.read(spec, "spec", "powerPolicy", community.power_policy);
  reader.read(spec, "spec", "archived", community.archived);
  reader.read(spec, "spec", "protect", community.protect);
}

void read_council(DocumentReader& reader, const Node& spec, model::Council& council) {
  reader.check_fields(spec, "spec", k_council_fields);
  reader.read(spec, "spec", "community", council.community);
  reader.read(spec, "spec", "name", council.display_name);
  reader.read(spec, "spec", "topic", council.topic);
  read_members(reader, spec, [&](const Node& entry, const std::string& path) {
    reader.check_fields(entry, path, k_council_member_fields);
    model::CouncilMember member;
    reader.read(entry, path, "user", member.user);
    if (const Node role = reader.field(entry, path, "role"); present(role)) {
      if (auto index = reader.as_choice(role, child(path, "role"), k_council_roles)) {
        member.role = *index == 0 ? model::CouncilRole::member : model::CouncilRole::chair;
      }
    }
    member.origin = member_origin(*reader.origin(), path + ".", reader.at(entry));
    council.members.push_back(std::move(member));
  });
  reader.read(spec, "spec", "encrypted", council.encrypted);
  reader.read(spec, "spec", "archived", council.archived);
  reader.read(spec, "spec", "protect", council.protect);
}

void read_coordination_room(DocumentReader& reader, const Node& spec, model::CoordinationRoom& room) {
  reader.check_fields(spec, "spec", k_coordination_fields);
  reader.read(spec, "spec", "between", room.between);
  reader.read(spec, "spec", "request", room.request);
  room.message = std::string(k_default_coordination_message) + room.request;
  reader.read(spec, "spec", "message", room.message);
  reader.read(spec, "spec", "encrypted", room.encrypted);
  reader.read(spec, "spec", "archived", room.archived);
  reader.read(spec, "spec", "protect", room.protect);
}

void read_power_policy(DocumentReader& reader, const Node& spec, model::PowerPolicy& policy) {
  reader.check_fields(spec, "spec", k_policy_fields);
  if (const Node bands = reader.field(spec, "spec", "bands");
      present(bands) && reader.expect_list(bands, "spec.bands")) {
    // Declared bands replace the default table entirely; merging would make
    // a policy's meaning depend on defaults the reader cannot see.
    policy.bands.clear();
    const std::size_t size = bands.size();
    for (std::size_t i = 0; i < size; ++i) {
      const Node entry = bands.item(i);
      const std::string path = item("spec.bands", i);
      if (!reader.expect_map(entry, path)) {
        continue;
      }
      reader.check_fields(entry, path, k_band_fields);
      model::TrustBand band;
      for (const std::string& key : k_band_fields) {
        if (!present(entry.find(key))) {
          reader.report(entry, "missing required field " + in_quotes(shown(child(path, key))));
        }
      }
      reader.read(entry, path, "minTrust", band.min_trust);
      reader.read(entry, path, "level", band.level);
      policy.bands.push_back(band);
    }
  }
  reader.read(spec, "spec", "adminLevel", policy.admin_level);
  reader.read(spec, "spec", "chairLevel", policy.chair_level);
  if (const Node thresholds = reader.field(spec, "spec", "thresholds");
      present(thresholds) && reader.expect_map(thresholds, "spec.thresholds")) {
    const std::string path = "spec.thresholds";
    reader.check_fields(thresholds, path, k_threshold_fields);
    reader.read(thresholds, path, "invite", policy.invite);
    reader.read(thresholds, path, "kick", policy.kick);
    reader.read(thresholds, path, "ban", policy.ban);
    reader.read(thresholds, path, "redact", policy.redact);
    reader.read(thresholds, path, "eventsDefault", policy.events_default);
    reader.read(thresholds, path, "stateDefault", policy.state_default);
  }
}

// The header of a document (apiVersion, kind, metadata) and then its spec.
// Objects whose kind or name cannot be known are left out of the topology:
// nothing could refer to them, and checking them further would only repeat
// the first problem.
void read_document(const Node& document, DocumentReader& reader, model::Topology& topology) {
  Origin origin;
  origin.object = reader.at(document);
  reader.set_subject("document", &origin);
  if (!document.is_map()) {
    reader.report(document, "expected a mapping with apiVersion, kind, metadata and spec, got " + got(document));
    return;
  }
  // A field that was not given is an absent node, which present() rejects.
  const Node kind = document.find("kind");
  const Node metadata = document.find("metadata");
  const Node name = metadata.find("name");
  const bool known_kind =
      present(kind) && kind.is_scalar() && std::find(k_kinds.begin(), k_kinds.end(), kind.scalar()) != k_kinds.end();
  const bool named = present(name) && name.is_scalar();
  const std::string label = known_kind ? kind_label(kind.scalar()) : "document";
  const std::string subject = named ? model::describe_object(label, name.scalar()) : label;
  reader.set_subject(subject, &origin);

  reader.check_fields(document, "", k_document_fields);
  const Node api_version = reader.field(document, "", "apiVersion");
  if (!present(api_version)) {
    reader.report(document, "missing required field \"apiVersion\"");
  } else if (!api_version.is_scalar() || api_version.scalar() != k_manifest_api_version) {
    reader.report(api_version, "unknown apiVersion " +
                                   (api_version.is_scalar() ? in_quotes(api_version.scalar()) : got(api_version)) +
                                   " (expected " + in_quotes(k_manifest_api_version) + ")");
  }
  if (!present(reader.field(document, "", "kind"))) {
    reader.report(document, "missing required field \"kind\"");
    return;
  }
  if (!known_kind) {
    const std::string shown_kind = kind.is_scalar() ? in_quotes(kind.scalar()) : got(kind);
    reader.report(kind, "unknown kind " + shown_kind +
                            (kind.is_scalar() ? model::did_you_mean(kind.scalar(), k_kinds) : std::string()));
    return;
  }
  if (!present(metadata)) {
    reader.report(document, "missing required field \"metadata\"");
    return;
  }
  if (!reader.expect_map(metadata, "metadata")) {
    return;
  }
  reader.check_fields(metadata, "metadata", k_metadata_fields);
  if (!present(name)) {
    reader.report(metadata, "missing required field \"metadata.name\"");
    return;
  }
  if (!named) {
    reader.report(name, "metadata.name must be a string, got " + got(name));
    return;
  }
  origin.object = reader.at(name);
  origin.fields["metadata.name"] = origin.object;
  origin.fields["kind"] = reader.at(kind);

  // An absent spec means "all defaults"; a malformed one is reported and
  // read as empty.
  const Node declared_spec = reader.field(document, "", "spec");
  const bool usable_spec = present(declared_spec) && reader.expect_map(declared_spec, "spec");
  const Node spec = usable_spec ? declared_spec : Node();
  // Each object is read in place so the reader can record into its Origin.
  const std::string_view kind_name = kind.scalar();
  auto start = [&](auto& object) {
    object.name = name.scalar();
    object.origin = std::move(origin);
    reader.set_subject(subject, &object.origin);
  };
  if (kind_name == "User") {
    start(topology.users.emplace_back());
    read_user(reader, spec, topology.users.back());
  } else if (kind_name == "Community") {
    start(topology.communities.emplace_back());
    read_community(reader, spec, topology.communities.back());
  } else if (kind_name == "Council") {
    start(topology.councils.emplace_back());
    read_council(reader, spec, topology.councils.back());
  } else if (kind_name == "CoordinationRoom") {
    start(topology.coordination_rooms.emplace_back());
    read_coordination_room(reader, spec, topology.coordination_rooms.back());
  } else {
    start(topology.power_policies.emplace_back());
    read_power_policy(reader, spec, topology.power_policies.back());
  }
}

// One YAML document's text (a view into its file's) and the 0-based line it
// starts on in its file.
struct DocumentText {
  std::string_view text;
  int first_line = 0;
};

bool is_marker(std::string_view line, std::string_view marker) {
  if (!line.starts_with(marker)) {
    return false;
  }
  const std::string_view rest = line.substr(marker.size());
  return rest.empty() || rest.front() == ' ' || rest.front() == '\t' || rest.front() == '\r' || rest.front() == '\n';
}

// Splits a stream at its document markers so that each document is parsed on
// its own: yaml-cpp gives up on a whole stream at its first syntax error, and
// one broken document must not hide the problems of the others. Markers are
// only recognised at the start of a line, where YAML allows nothing else.
std::vector<DocumentText> split_documents(std::string_view text) {
  std::vector<DocumentText> documents;
  std::size_t begin = 0;  // of the current document
  int first_line = 0;
  bool has_content = false;
  int line_number = 0;
  std::size_t offset = 0;
  auto end_document = [&](std::size_t at) {
    documents.push_back(DocumentText{text.substr(begin, at - begin), first_line});
    begin = at;
    first_line = line_number;
    has_content = false;
  };
  while (offset < text.size()) {
    const std::size_t end = text.find('\n', offset);
    const std::string_view line = text.substr(offset, end == std::string_view::npos ? text.npos : end + 1 - offset);
    if (is_marker(line, "---") && has_content) {
      end_document(offset);
    }
    offset += line.size();
    // Comments and directives belong with the document that follows them.
    std::size_t first = line.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && line[first] != '#' && line[first] != '%') {
      has_content = true;
    }
    ++line_number;
    if (is_marker(line, "...")) {
      end_document(offset);
    }
  }
  end_document(text.size());
  return documents;
}

// Reads a document's text in place for yaml-cpp's parser, which takes a
// std::istream: a std::istringstream would copy the text first. yaml-cpp only
// reads (and puts back what it read), so the text is never written through
// the non-const pointers.
class TextBuffer : public std::streambuf {
 public:
  explicit TextBuffer(std::string_view text) {
    char* begin = const_cast<char*>(text.data());
    setg(begin, begin, begin + text.size());
  }
};

// yaml-cpp's messages for tab indentation ("illegal map value") do not say
// what is wrong, and a tab is invisible in most editors.
std::string tab_hint(std::string_view text, const YAML::Mark& mark) {
  if (mark.is_null()) {
    return "";
  }
  std::istringstream lines{std::string(text)};
  std::string line;
  for (int i = 0; i <= mark.line; ++i) {
    if (!std::getline(lines, line)) {
      return "";
    }
  }
  const std::size_t indent_end = line.find_first_not_of(" \t");
  const std::string indent = line.substr(0, indent_end);
  return indent.find('\t') == std::string::npos ? "" : " (indentation must use spaces, not tabs)";
}

// A document to read: its text, the file it is in and the line it starts on.
struct Part {
  const std::string* file = nullptr;
  std::string_view text;
  int first_line = 0;
};

// What reading a run of parts produced. Runs are read at the same time, each
// into its own Partial, and merged in order, so the result is the one reading
// them one after another gives.
struct Partial {
  model::Topology topology;
  model::Diagnostics diagnostics;
  std::size_t documents = 0;
  /// What escaped reading (std::bad_alloc): rethrown on the calling thread.
  std::exception_ptr failure;
};

// Parses one part and reads its documents, structural checks only.
void read_part(const Part& part, manifest_yaml::Tree& tree, Partial& out) {
  DocumentReader reader(*part.file, part.first_line, out.diagnostics);
  try {
    TextBuffer buffer(part.text);
    std::istream stream(&buffer);
    for (const Node& document : tree.parse(stream)) {
      if (!present(document)) {
        continue;
      }
      ++out.documents;
      read_document(document, reader, out.topology);
    }
  } catch (const YAML::Exception& error) {
    out.diagnostics.push_back(
        model::Diagnostic{reader.at(error.mark), "invalid yaml: " + error.msg + tab_hint(part.text, error.mark)});
  }
}

void read_run(std::span<const Part> run, Partial& out) noexcept {
  try {
    // One tree for the run: each part reuses the memory of the last.
    manifest_yaml::Tree tree;
    for (const Part& part : run) {
      read_part(part, tree, out);
    }
  } catch (...) {
    out.failure = std::current_exception();
  }
}

template <typename T>
void append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// Below this much YAML per thread, starting one is not worth it; parsing
// 256 KiB takes yaml-cpp about 25 ms.
constexpr std::size_t k_bytes_per_thread = 256 * 1024;
constexpr std::size_t k_max_threads = 8;

// How many runs to read at once: `requested`, or (0) one per core as far as
// the text is large enough; never more than there are parts.
std::size_t run_count(std::size_t requested, std::size_t bytes, std::size_t parts) {
  std::size_t count = requested;
  if (count == 0) {
    const std::size_t cores = std::max<std::size_t>(1, std::thread::hardware_concurrency());
    count = std::min({cores, k_max_threads, std::max<std::size_t>(1, bytes / k_bytes_per_thread)});
  }
  return std::max<std::size_t>(1, std::min(count, parts));
}

// `parts` cut into at most `count` consecutive runs of about equal text size.
std::vector<std::span<const Part>> split_runs(const std::vector<Part>& parts, std::size_t count) {
  std::size_t total = 0;
  for (const Part& part : parts) {
    total += part.text.size();
  }
  std::vector<std::span<const Part>> runs;
  std::size_t begin = 0;
  std::size_t done = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    done += parts[i].text.size();
    // Run k ends once the runs so far hold k/count of the text; the last run takes the rest.
    if (runs.size() + 1 < count && done * count >= total * (runs.size() + 1)) {
      runs.emplace_back(parts.data() + begin, i + 1 - begin);
      begin = i + 1;
    }
  }
  if (begin < parts.size() || runs.empty()) {
    runs.emplace_back(parts.data() + begin, parts.size() - begin);
  }
  return runs;
}

// Reads every part into `loaded`, structural checks only. yaml-cpp's parser
// is most of the time a large manifest set takes, and documents are parsed
// independently anyway (see split_documents), so runs of them are parsed on
// as many threads as `threads` allows (see run_count).
void read_parts(const std::vector<Part>& parts, std::size_t threads, LoadedManifests& loaded) {
  std::size_t bytes = 0;
  for (const Part& part : parts) {
    bytes += part.text.size();
  }
  const std::vector<std::span<const Part>> runs = split_runs(parts, run_count(threads, bytes, parts.size()));
  std::vector<Partial> partials(runs.size());
  std::vector<std::thread> workers;
  // Reserved so that nothing can throw past a running worker (whose
  // std::thread would then terminate the program).
  workers.reserve(runs.size());
  for (std::size_t i = 1; i < runs.size(); ++i) {
    try {
      workers.emplace_back([&runs, &partials, i] { read_run(runs[i], partials[i]); });
    } catch (const std::exception&) {
      // No thread to be had (std::system_error): this run is read here instead.
      read_run(runs[i], partials[i]);
    }
  }
  read_run(runs[0], partials[0]);
  for (std::thread& worker : workers) {
    worker.join();
  }
  for (Partial& partial : partials) {
    if (partial.failure) {
      std::rethrow_exception(partial.failure);
    }
    append(loaded.topology.users, partial.topology.users);
    append(loaded.topology.communities, partial.topology.communities);
    append(loaded.topology.councils, partial.topology.councils);
    append(loaded.topology.coordination_rooms, partial.topology.coordination_rooms);
    append(loaded.topology.power_policies, partial.topology.power_policies);
    append(loaded.diagnostics, partial.diagnostics);
    loaded.documents += partial.documents;
  }
}

// The documents of `text` (a file's, which must outlive them) as parts.
void add_parts(std::string_view text, const std::string& file, std::vector<Part>& parts) {
  for (const DocumentText& document : split_documents(text)) {
    parts.push_back(Part{&file, document.text, document.first_line});
  }
}

// Semantic checks over everything read, the empty-set rule, and ordering.
void finish(LoadedManifests& loaded, const std::string& where, ManifestChecks checks = ManifestChecks::all) {
  // A value that failed its structural check was left empty or at its
  // default; a semantic complaint at the very same node would only be a
  // consequence of that, so the structural message stands alone.
  std::set<std::tuple<std::string, int, int>> reported;
  for (const model::Diagnostic& diagnostic : loaded.diagnostics) {
    reported.emplace(diagnostic.where.file, diagnostic.where.line, diagnostic.where.column);
  }
  model::Diagnostics semantic;
  if (checks == ManifestChecks::all) {
    semantic = model::validate_topology(loaded.topology);
  }
  for (model::Diagnostic& diagnostic : semantic) {
    if (!reported.contains({diagnostic.where.file, diagnostic.where.line, diagnostic.where.column})) {
      loaded.diagnostics.push_back(std::move(diagnostic));
    }
  }
  // With other problems already reported (a missing path, a broken file) an
  // extra "nothing found" would only repeat them.
  if (loaded.documents == 0 && loaded.diagnostics.empty()) {
    loaded.diagnostics.push_back(model::Diagnostic{
        SourceLocation{where, 0, 0}, "no manifests found (expected *.yaml or *.yml files with at least one document)"});
  }
  model::sort_diagnostics(loaded.diagnostics);
}

bool is_manifest_file(const std::filesystem::path& path) {
  return path.extension() == ".yaml" || path.extension() == ".yml";
}

bool is_hidden(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  return name.size() > 1 && name.front() == '.' && name != "..";
}

// The manifest files under `directory`, sorted; hidden files and folders
// (".git", editor backups) are skipped.
std::vector<std::string> files_under(const std::string& directory, model::Diagnostics& diagnostics) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  std::error_code error;
  fs::recursive_directory_iterator it(directory, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (is_hidden(it->path())) {
      if (it->is_directory(error)) {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (is_manifest_file(it->path()) && it->is_regular_file(error)) {
      files.push_back(it->path().string());
    }
  }
  if (error) {
    diagnostics.push_back(
        model::Diagnostic{SourceLocation{directory, 0, 0}, "cannot read directory: " + error.message()});
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    return std::nullopt;
  }
  std::ostringstream contents;
  contents << stream.rdbuf();
  if (stream.bad()) {
    return std::nullopt;
  }
  return contents.str();
}

}  // namespace

LoadedManifests load_manifests(const std::vector<std::string>& paths) {
  return load_manifests(paths, ManifestChecks::all);
}

LoadedManifests load_manifests(const std::vector<std::string>& paths, ManifestChecks checks, std::size_t threads) {
  namespace fs = std::filesystem;
  LoadedManifests loaded;
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    fs::file_status status = fs::status(path, error);
    if (!fs::exists(status)) {
      loaded.diagnostics.push_back(model::Diagnostic{SourceLocation{path, 0, 0}, "no such file or directory"});
    } else if (fs::is_directory(status)) {
      std::vector<std::string> found = files_under(path, loaded.diagnostics);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(path);
    }
  }
  // Every file is read before any is parsed, so that documents of all of
  // them can be parsed at once. (A "cannot read file" now comes before the
  // problems of the files ahead of it; the sort by position below puts it
  // where it always was.)
  std::set<fs::path> seen;
  std::vector<std::string> texts;
  for (const std::string& file : files) {
    std::error_code error;
    fs::path canonical = fs::weakly_canonical(file, error);
    if (!seen.insert(error ? fs::path(file) : canonical).second) {
      continue;
    }
    std::optional<std::string> text = read_file(file);
    if (!text) {
      loaded.diagnostics.push_back(model::Diagnostic{SourceLocation{file, 0, 0}, "cannot read file"});
      continue;
    }
    loaded.files.push_back(file);
    texts.push_back(std::move(*text));
  }
  // Parts point into loaded.files and texts, which no longer change.
  std::vector<Part> parts;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    add_parts(texts[i], loaded.files[i], parts);
  }
  read_parts(parts, threads, loaded);
  std::string where;
  for (const std::string& path : paths) {
    where += (where.empty() ? "" : " ") + path;
  }
  finish(loaded, where.empty() ? "." : where, checks);
  return loaded;
}

LoadedManifests parse_manifests(std::string_view text, const std::string& file_name, std::size_t threads) {
  LoadedManifests loaded;
  loaded.files.push_back(file_name);
  std::vector<Part> parts;
  add_parts(text, loaded.files.front(), parts);
  read_parts(parts, threads, loaded);
  finish(loaded, file_name);
  return loaded;
}

}  // namespace adapters

#include "adapters/manifests/yaml_manifests.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <thread>
#include <tuple>

#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>

#include "adapters/manifests/yaml_document_reader.h"
#include "adapters/manifests/yaml_objects.h"
#include "adapters/manifests/yaml_split.h"
#include "adapters/manifests/yaml_tree.h"
#include "model/validate.h"

namespace adapters {

namespace {

using model::SourceLocation;
using manifest_yaml::DocumentReader;
using manifest_yaml::DocumentText;
using manifest_yaml::Node;
using manifest_yaml::present;
using manifest_yaml::read_document;

// yaml-cpp's messages for tab indentation ("illegal map value") do not say
// what is wrong, and a tab is invisible in most editors.
std::string tab_hint(std::string_view text, const YAML::Mark& mark, const std::string& message) {
  if (mark.is_null() || message.find("tabs") != std::string::npos) {
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
    for (const Node& document : tree.parse(part.text)) {
      if (!present(document)) {
        continue;
      }
      ++out.documents;
      read_document(document, reader, out.topology);
    }
  } catch (const YAML::Exception& error) {
    out.diagnostics.push_back(
        model::Diagnostic{reader.at(error.mark),
                          "invalid yaml: " + error.msg + tab_hint(part.text, error.mark, error.msg)});
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
  for (const DocumentText& document : manifest_yaml::split_documents(text)) {
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

// Reads `files` (each once, however it is spelled) into `read`. A "cannot
// read file" comes before the problems of the files ahead of it; sorting by
// position puts it where it belongs.
void read_files(const std::vector<std::string>& files, ManifestTexts& read) {
  namespace fs = std::filesystem;
  std::set<fs::path> seen;
  for (const std::string& file : files) {
    std::error_code error;
    fs::path canonical = fs::weakly_canonical(file, error);
    if (!seen.insert(error ? fs::path(file) : canonical).second) {
      continue;
    }
    std::optional<std::string> text = read_file(file);
    if (!text) {
      read.diagnostics.push_back(model::Diagnostic{SourceLocation{file, 0, 0}, "cannot read file"});
      continue;
    }
    read.files.push_back(file);
    read.texts.push_back(std::move(*text));
  }
}

}  // namespace

LoadedManifests load_manifests(const std::vector<std::string>& paths) {
  return load_manifests(paths, ManifestChecks::all);
}

ManifestTexts read_manifest_texts(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  ManifestTexts read;
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    fs::file_status status = fs::status(path, error);
    if (!fs::exists(status)) {
      read.diagnostics.push_back(model::Diagnostic{SourceLocation{path, 0, 0}, "no such file or directory"});
    } else if (fs::is_directory(status)) {
      std::vector<std::string> found = files_under(path, read.diagnostics);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(path);
    }
  }
  read_files(files, read);
  for (const std::string& path : paths) {
    read.where += (read.where.empty() ? "" : " ") + path;
  }
  if (read.where.empty()) {
    read.where = ".";
  }
  return read;
}

LoadedManifests parse_manifest_texts(ManifestTexts read, ManifestChecks checks, std::size_t threads) {
  LoadedManifests loaded;
  loaded.diagnostics = std::move(read.diagnostics);
  loaded.files = std::move(read.files);
  {
    // Parts point into loaded.files and the texts, which no longer change;
    // the texts go before the semantic checks.
    std::vector<std::string> texts = std::move(read.texts);
    std::vector<Part> parts;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      add_parts(texts[i], loaded.files[i], parts);
    }
    read_parts(parts, threads, loaded);
  }
  finish(loaded, read.where, checks);
  return loaded;
}

LoadedManifests load_manifests(const std::vector<std::string>& paths, ManifestChecks checks, std::size_t threads) {
  return parse_manifest_texts(read_manifest_texts(paths), checks, threads);
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

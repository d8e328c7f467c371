// The manifest loader against libyaml on thousands of damaged copies of the
// example manifests: whatever libyaml rejects, mxctl must reject with a
// position; whatever both accept, both must read the same; nothing may hang
// or crash. Where mxctl, libyaml and YAML 1.2 disagree on purpose the
// exceptions are listed below, each with why.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>
#include <yaml-cpp/exceptions.h>

#include "adapters/yaml_manifests.h"
#include "adapters/yaml_split.h"
#include "adapters/yaml_tree.h"
#include "tests/yaml_differential/describe.h"
#include "tests/support/isolated.h"
#include "tests/yaml_differential/libyaml_reference.h"
#include "tests/yaml_differential/mutations.h"

namespace {

using adapters::manifest_yaml::Node;
using tests::yaml_differential::describe;
using testing_support::Isolated;
using tests::yaml_differential::Kind;
using tests::yaml_differential::Mutant;
using tests::yaml_differential::Reading;

constexpr std::size_t k_mutants = 3000;
constexpr std::uint64_t k_seed = 20240601;
constexpr std::size_t k_batch = 250;
// Generous: a batch takes well under a second; a hang is what this catches.
constexpr std::chrono::milliseconds k_batch_limit{30000};
constexpr std::chrono::milliseconds k_mutant_limit{10000};

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
    // field is empty, and libyaml refuses it too.
    {"expected a key before ':'", "an empty key"},
};

// Text libyaml rejects although YAML 1.2 accepts it, and mxctl with it (see
// also rewrite_for_libyaml): a '#' in a tag or a directive name, which 1.2's
// URI characters include and libyaml's do not.
bool libyaml_stricter_than_yaml(const std::string& text, const std::string& libyaml_error) {
  const bool about_names = libyaml_error.find("did not find expected whitespace or line break") != std::string::npos ||
                           libyaml_error.find("could not find expected directive name") != std::string::npos;
  if (!about_names) {
    return false;
  }
  int line = 0;
  int column = 0;
  std::sscanf(libyaml_error.c_str(), "%d:%d", &line, &column);
  std::istringstream lines(text);
  std::string at;
  for (int i = 0; i < line && std::getline(lines, at);) {
    ++i;
  }
  return column >= 1 && static_cast<std::size_t>(column) <= at.size() &&
         at[static_cast<std::size_t>(column - 1)] == '#';
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

// mxctl's reading of a text: the tree's first error ("line:col: message",
// 1-based) or its non-null documents, and the loader's first "invalid yaml"
// diagnostic. Serialised as length-prefixed fields to cross the pipe.
struct MxctlReading {
  std::string error;
  std::string diagnostic;
  std::vector<std::string> documents;
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

std::string read_with_mxctl(const std::string& text) {
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

// What happened to one mutant in mxctl's hands.
struct Outcome {
  Isolated::Status status = Isolated::Status::done;
  std::string how;
  MxctlReading reading;
};

// Reads `mutants` in children, a batch per child; a batch that hangs or
// crashes is read again one mutant per child, to name the culprit.
std::vector<Outcome> read_all_with_mxctl(const std::vector<Mutant>& mutants) {
  std::vector<Outcome> outcomes(mutants.size());
  for (std::size_t begin = 0; begin < mutants.size(); begin += k_batch) {
    const std::size_t end = std::min(mutants.size(), begin + k_batch);
    const Isolated batch = testing_support::run_isolated(
        [&] {
          std::string out;
          for (std::size_t i = begin; i < end; ++i) {
            out += read_with_mxctl(mutants[i].text);
          }
          return out;
        },
        k_batch_limit);
    if (batch.status == Isolated::Status::done) {
      std::string_view in = batch.output;
      for (std::size_t i = begin; i < end; ++i) {
        outcomes[i].reading = parse_reading(in);
      }
      continue;
    }
    for (std::size_t i = begin; i < end; ++i) {
      const Isolated one =
          testing_support::run_isolated([&] { return read_with_mxctl(mutants[i].text); }, k_mutant_limit);
      outcomes[i].status = one.status;
      outcomes[i].how = one.how;
      if (one.status == Isolated::Status::done) {
        std::string_view in = one.output;
        outcomes[i].reading = parse_reading(in);
      }
    }
  }
  return outcomes;
}

std::vector<std::string> example_manifests() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(MXCTL_SOURCE_DIR) + "/manifests")) {
    if (entry.path().extension() == ".yaml") {
      paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> texts;
  for (const auto& path : paths) {
    std::ifstream stream(path, std::ios::binary);
    std::ostringstream text;
    text << stream.rdbuf();
    texts.push_back(text.str());
  }
  return texts;
}

// Why mxctl's outcome for `mutant` is wrong, or empty; `tally` counts the
// documented disagreements met and the open quotes checked.
std::string judge(const Mutant& mutant, const Outcome& outcome, std::map<std::string, int>& tally) {
  static const std::regex k_positioned(R"(^m\.yaml:[1-9][0-9]*:[1-9][0-9]*: invalid yaml: .+)");
  if (outcome.status == Isolated::Status::timed_out) {
    return "did not return within " + std::to_string(k_mutant_limit.count()) + " ms";
  }
  if (outcome.status == Isolated::Status::crashed) {
    return "crashed (" + outcome.how + ")";
  }
  const MxctlReading& mxctl = outcome.reading;
  const bool rejected = !mxctl.error.empty();
  if (rejected != !mxctl.diagnostic.empty()) {
    return "the tree says [" + mxctl.error + "] but the loader says [" + mxctl.diagnostic + "]";
  }
  if (rejected && !std::regex_match(mxctl.diagnostic, k_positioned)) {
    return "rejected without a position: " + mxctl.diagnostic;
  }
  const Reading libyaml =
      tests::yaml_differential::read_with_libyaml(tests::yaml_differential::rewrite_for_libyaml(mutant.text));
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
    if (libyaml_stricter_than_yaml(mutant.text, libyaml.error)) {
      ++tally["libyaml: '#' in a tag or directive name"];
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

}  // namespace

TEST_CASE("yaml differential: damaged manifests are rejected where libyaml rejects them, and read alike otherwise",
          "[yaml-differential]") {
  const std::vector<std::string> seeds = example_manifests();
  REQUIRE(seeds.size() >= 5);
  const std::vector<Mutant> mutants = tests::yaml_differential::make_mutants(seeds, k_mutants, k_seed);
  const std::vector<Outcome> outcomes = read_all_with_mxctl(mutants);

  std::map<std::string, int> tally;
  std::vector<std::string> failures;
  std::size_t rejected = 0;
  for (std::size_t i = 0; i < mutants.size(); ++i) {
    rejected += outcomes[i].reading.error.empty() ? 0 : 1;
    if (std::string why = judge(mutants[i], outcomes[i], tally); !why.empty()) {
      failures.push_back("mutant " + std::to_string(i) + " (" + mutants[i].recipe + "): " + why);
    }
  }
  std::string summary =
      std::to_string(mutants.size()) + " mutants, " + std::to_string(rejected) + " rejected by mxctl:";
  for (const auto& [name, count] : tally) {
    summary += "\n  " + name + ": " + std::to_string(count);
  }
  INFO(summary);
  std::string shown;
  for (std::size_t i = 0; i < std::min<std::size_t>(failures.size(), 25); ++i) {
    shown += failures[i] + "\n";
  }
  INFO(shown);
  CHECK(failures.size() == 0);
  // The corpus must keep exercising both sides.
  CHECK(rejected > mutants.size() / 4);
  CHECK(rejected < mutants.size() * 3 / 4);
}

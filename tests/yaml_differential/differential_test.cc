// The manifest loader against libyaml on thousands of damaged copies of the
// example manifests: whatever libyaml rejects, mxctl must reject with a
// position; whatever both accept, both must read the same; nothing may hang
// or crash. Where mxctl, libyaml and YAML 1.2 disagree on purpose the
// exceptions are listed in compare.cc, each with why.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include "tests/support/isolated.h"
#include "tests/yaml_differential/compare.h"
#include "tests/yaml_differential/mutations.h"

namespace differential_test {

namespace {

using testing_support::Isolated;
using tests::yaml_differential::MxctlReading;
using tests::yaml_differential::Mutant;
using tests::yaml_differential::parse_reading;
using tests::yaml_differential::read_with_mxctl;
using tests::yaml_differential::serialize;

constexpr std::size_t k_mutants = 3000;
constexpr std::uint64_t k_seed = 20240601;
constexpr std::size_t k_batch = 250;
// Generous: a batch takes well under a second; a hang is what this catches.
constexpr std::chrono::milliseconds k_batch_limit{30000};
constexpr std::chrono::milliseconds k_mutant_limit{10000};

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
            out += serialize(read_with_mxctl(mutants[i].text));
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
          testing_support::run_isolated([&] { return serialize(read_with_mxctl(mutants[i].text)); }, k_mutant_limit);
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
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(MXCTL_SOURCE_DIR) / "manifests")) {
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
  if (outcome.status == Isolated::Status::timed_out) {
    return "did not return within " + std::to_string(k_mutant_limit.count()) + " ms";
  }
  if (outcome.status == Isolated::Status::crashed) {
    return "crashed (" + outcome.how + ")";
  }
  return tests::yaml_differential::disagreement(mutant.text, outcome.reading, tally);
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

}  // namespace differential_test

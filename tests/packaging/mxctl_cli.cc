#include "tests/packaging/mxctl_cli.h"

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include "tests/support/process.h"

namespace packaging_test {

namespace {

std::string help_text(const std::vector<std::string>& argv) {
  auto result = testing_support::run_process(argv);
  INFO("running " << argv.front() << " ... --help: " << result.err);
  REQUIRE(result.exit_code == 0);
  return result.out;
}

// The first word of each entry in the CLI11 help section `heading`
// ("Options:", "Subcommands:"): entries are indented two blanks, their
// wrapped descriptions much further.
std::vector<std::string> section_entries(const std::string& help, const std::string& heading) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ') {
      inside = line == heading;
      continue;
    }
    if (inside && line.size() > 2 && line.compare(0, 2, "  ") == 0 && line[2] != ' ') {
      out.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
  }
  return out;
}

}  // namespace

std::set<std::string> subcommands(const std::string& mxctl) {
  auto entries = section_entries(help_text({mxctl, "--help"}), "Subcommands:");
  return {entries.begin(), entries.end()};
}

std::set<std::string> options_of(const std::string& mxctl, const std::string& subcommand) {
  std::set<std::string> out;
  for (const std::string& entry : section_entries(help_text({mxctl, subcommand, "--help"}), "Options:")) {
    // "-h,--help" or "--state": the long names.
    std::istringstream names(entry);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name.rfind("--", 0) == 0) {
        out.insert(name);
      }
    }
  }
  return out;
}

std::set<std::string> environment_variables(const std::string& mxctl) {
  std::string all = help_text({mxctl, "--help"});
  for (const std::string& subcommand : subcommands(mxctl)) {
    all += help_text({mxctl, subcommand, "--help"});
  }
  std::set<std::string> out;
  static const std::regex k_name(R"(Env:([A-Z0-9_]+)|\b(MATRIX_[A-Z0-9_]+))");
  for (auto it = std::sregex_iterator(all.begin(), all.end(), k_name); it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
  }
  return out;
}

void check_accepted(const std::vector<std::string>& argv) {
  REQUIRE(argv.size() >= 2);
  const std::string& mxctl = argv[0];
  INFO("command line: " << [&] {
    std::string line;
    for (const auto& word : argv) {
      line += word + " ";
    }
    return line;
  }());
  REQUIRE(subcommands(mxctl).count(argv[1]) == 1);
  const auto options = options_of(mxctl, argv[1]);
  for (std::size_t i = 2; i < argv.size(); ++i) {
    if (argv[i].rfind("--", 0) == 0) {
      std::string name = argv[i].substr(0, argv[i].find('='));
      INFO("option " << name);
      CHECK(options.count(name) == 1);
    }
  }
  std::vector<std::string> with_help = argv;
  with_help.emplace_back("--help");
  auto result = testing_support::run_process(with_help);
  INFO("stderr: " << result.err);
  CHECK(result.exit_code == 0);
}

}  // namespace packaging_test

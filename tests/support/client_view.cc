#include "tests/support/client_view.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <regex>

namespace testing_support {

std::string reference_python() {
  const char* chosen = std::getenv("MXCTL_REFERENCE_PYTHON");
  return chosen != nullptr && *chosen != '\0' ? chosen : "/usr/bin/python3";
}

ProcessResult run_client_view(const std::string& base_url, const std::string& admin_token,
                              const std::string& desired_json, const std::string& bot,
                              const std::string& scratch_dir) {
  const std::string token_file = scratch_dir + "/client-view-admin-token";
  const std::string desired_file = scratch_dir + "/client-view-desired.json";
  {
    std::ofstream(token_file, std::ios::trunc) << admin_token;
    ::chmod(token_file.c_str(), 0600);
    std::ofstream(desired_file, std::ios::trunc) << desired_json;
  }
  return run_process({reference_python(), std::string(MXCTL_SOURCE_DIR) + "/tests/client/client_view.py",
                      "--homeserver", base_url, "--admin-token-file", token_file, "--desired", desired_file,
                      "--bot", bot});
}

std::map<std::string, int> client_view_counts(const std::string& out) {
  std::map<std::string, int> counts;
  const std::size_t start = out.rfind("client view: ");
  if (start == std::string::npos) {
    return counts;
  }
  const std::string line = out.substr(start, out.find('\n', start) - start);
  const std::regex count(R"(([a-z0-9_]+)=(\d+))");
  for (auto it = std::sregex_iterator(line.begin(), line.end(), count); it != std::sregex_iterator(); ++it) {
    counts[(*it)[1]] = std::stoi((*it)[2]);
  }
  return counts;
}

void check_example_client_view(const ProcessResult& view) {
  INFO(view.out << view.err);
  CHECK(view.exit_code == 0);
  // Each kind of check ran, or a pass would prove nothing.
  auto counts = client_view_counts(view.out);
  CHECK(counts["people"] == 19);
  CHECK(counts["problems"] == 0);
  CHECK(counts["direct_invites"] == 4);
  CHECK(counts["openings"] == 4);
  CHECK(counts["refused_renames_at_0"] > 0);
  CHECK(counts["refused_kicks_at_25"] > 0);
  CHECK(counts["hierarchies"] > 0);
}

}  // namespace testing_support

#include "tests/packaging/installed_tree.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tests/support/process.h"

namespace packaging_test {

namespace {

// Binaries are large; /dev/shm keeps a few copies of them off the disk.
std::filesystem::path temp_base() {
  std::error_code ignored;
  if (std::filesystem::is_directory("/dev/shm", ignored)) {
    return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

}  // namespace

InstalledTree::InstalledTree(const std::string& component) : m_destdir(temp_base()) {
  std::vector<std::string> argv = {MXCTL_CMAKE_COMMAND, "--install", MXCTL_BUILD_DIR};
  if (!component.empty()) {
    argv.insert(argv.end(), {"--component", component});
  }
  auto result = testing_support::run_process(argv, {{"DESTDIR", m_destdir.path().string()}});
  INFO("cmake --install: " << result.out << result.err);
  REQUIRE(result.exit_code == 0);
}

std::filesystem::path InstalledTree::at(const std::filesystem::path& absolute) const {
  return m_destdir.path() / absolute.relative_path();
}

std::vector<std::string> InstalledTree::files() const {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(m_destdir.path())) {
    if (!entry.is_directory()) {
      out.push_back("/" + entry.path().lexically_relative(m_destdir.path()).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string InstalledTree::read(const std::filesystem::path& absolute) const {
  INFO("installed file " << absolute.string());
  REQUIRE(std::filesystem::is_regular_file(at(absolute)));
  return read_file(at(absolute));
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace packaging_test

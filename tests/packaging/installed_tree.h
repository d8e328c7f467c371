#pragma once
// `cmake --install` of this build tree into a temporary DESTDIR, as an
// operator or a distribution package would run it.

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace packaging_test {

/// The build tree installed (all of it, or one component) under a fresh
/// DESTDIR that is removed with the object. Fails the test case when the
/// install fails.
class InstalledTree {
 public:
  /// `component` empty installs everything, as a plain `cmake --install`.
  explicit InstalledTree(const std::string& component = "");

  /// Where the install path `absolute` (say MXCTL_INSTALL_FULL_BINDIR "/mxctl") landed.
  std::filesystem::path at(const std::filesystem::path& absolute) const;
  /// Every file installed, as its install path (without the DESTDIR), sorted.
  std::vector<std::string> files() const;
  /// The text of the installed file `absolute`; fails the test case when it is missing.
  std::string read(const std::filesystem::path& absolute) const;

 private:
  testing_support::TempDir m_destdir;
};

/// The text of `path`, or "" when it cannot be read.
std::string read_file(const std::filesystem::path& path);

/// Install paths of what packaging/README.md says a plain `cmake --install` puts where.
namespace installed {
const std::string k_mxctl = MXCTL_INSTALL_FULL_BINDIR "/mxctl";
const std::string k_mxsim = MXCTL_INSTALL_FULL_BINDIR "/mxsim";
const std::string k_mxctl_man = MXCTL_INSTALL_FULL_MANDIR "/man1/mxctl.1";
const std::string k_mxsim_man = MXCTL_INSTALL_FULL_MANDIR "/man1/mxsim.1";
const std::string k_service = MXCTL_INSTALL_FULL_UNITDIR "/mxctl.service";
const std::string k_reconcile_service = MXCTL_INSTALL_FULL_UNITDIR "/mxctl-reconcile.service";
const std::string k_reconcile_timer = MXCTL_INSTALL_FULL_UNITDIR "/mxctl-reconcile.timer";
const std::string k_cron = MXCTL_INSTALL_FULL_DOCDIR "/examples/cron.d/mxctl";
const std::string k_env_example = MXCTL_INSTALL_FULL_DOCDIR "/examples/mxctl.env.example";
}  // namespace installed

}  // namespace packaging_test

#pragma once
// A real Synapse 1.67 started by a test, from the shared test homeserver's
// scripts (`start DIR PORT`, `make-admin DIR`, `stop DIR`), in a directory of
// its own on a free loopback port.
//
// A fresh directory is not initialised from scratch: the first server of a
// build makes a template (database with its one-shot background updates done,
// @admin registered, Python bytecode cache), and each server starts from a
// copy of it. Which saves the schema set-up and, above all, compiling
// Synapse's bytecode in every test.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace testing_support {

/// How a self-started Synapse is configured (the start script's environment).
struct SynapseOptions {
  std::string server_name = "localhost";          ///< SERVER_NAME
  bool synapse_default_rate_limits = false;       ///< RATE_LIMITS=synapse-defaults, else relaxed
  std::vector<std::string> appservice_config_files;  ///< APPSERVICE_CONFIG_FILES (absolute paths)
};

/// One running Synapse; stopped by the destructor (also when a test fails),
/// and by a watchdog process if this process dies without running it.
class SynapseProcess {
 public:
  /// The folder holding `start`, `stop` and `make-admin`: $MXCTL_SYNAPSE_DIR,
  /// else the one compiled in (../shared/homeservers/synapse-1.67 beside the
  /// sources); nothing when it is not there.
  static std::optional<std::string> find_scripts();

  /// Starts a server with the scripts in `scripts`; throws
  /// std::runtime_error carrying the scripts' output when it cannot.
  SynapseProcess(std::string scripts, SynapseOptions options);
  ~SynapseProcess();
  SynapseProcess(const SynapseProcess&) = delete;
  SynapseProcess& operator=(const SynapseProcess&) = delete;

  /// "http://127.0.0.1:<port>".
  const std::string& base_url() const { return m_base_url; }
  /// The access token of @admin, a server admin (from `make-admin`).
  const std::string& admin_token() const { return m_admin_token; }
  /// The server's directory (config, database, homeserver.log).
  const std::filesystem::path& dir() const { return m_dir->path(); }

 private:
  void start();
  void stop();
  void start_watchdog();
  void end_watchdog();

  std::string m_scripts;
  SynapseOptions m_options;
  std::unique_ptr<TempDir> m_dir;
  int m_port = 0;
  std::string m_base_url;
  std::string m_admin_token;
  bool m_running = false;
  pid_t m_watchdog = -1;
  int m_watchdog_pipe = -1;
};

}  // namespace testing_support

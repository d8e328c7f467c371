#include "tests/support/synapse_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

#include "tests/support/exec_args.h"

namespace testing_support {

namespace fs = std::filesystem;

namespace {

// make-admin's password for @admin, fixed so a template made in one run
// still logs in from the next whatever the caller's ADMIN_PASSWORD says.
const std::string k_admin_password = "mxctl-test-admin-pass";
// Bump when the template's making changes, so old templates are rebuilt.
const std::string k_template_version = "1";

struct ScriptResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  auto newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

// Runs one of the homeserver's scripts with its output in files under
// `scratch`. Not run_process: the server `start` leaves running would
// inherit a pipe we read from and hold it open; here every descriptor but
// the three standard ones is closed before exec.
ScriptResult run_script(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                        const fs::path& scratch) {
  // Empty values are kept, not unset: APPSERVICE_CONFIG_FILES= means "none".
  const ExecArgs exec(argv, env);
  const fs::path out_path = scratch / "script.out";
  const fs::path err_path = scratch / "script.err";
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (in < 0 || out < 0 || err < 0) {
    throw std::runtime_error("cannot open the output files of " + argv[0] + " in " + scratch.string());
  }
  pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    for (int fd = 3; fd < 1024; ++fd) {
      close(fd);
    }
    execve(exec.program(), exec.argv(), exec.envp());
    _exit(127);
  }
  close(in);
  close(out);
  close(err);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ScriptResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_text(out_path);
  result.err = read_text(err_path);
  fs::remove(out_path);
  fs::remove(err_path);
  return result;
}

std::map<std::string, std::string> script_env(const SynapseOptions& options) {
  std::string files;
  for (const std::string& file : options.appservice_config_files) {
    files += (files.empty() ? "" : ",") + file;
  }
  return {{"SERVER_NAME", options.server_name},
          {"RATE_LIMITS", options.synapse_default_rate_limits ? "synapse-defaults" : "relaxed"},
          {"APPSERVICE_CONFIG_FILES", files},
          {"ADMIN_PASSWORD", k_admin_password},
          {"START_TIMEOUT", "120"}};
}

// A loopback port nobody listens on right now (bound to port 0, then let go).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw std::runtime_error("socket failed");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(address.sin_port);
}

// Servers' directories live in memory when the machine has /dev/shm:
// Synapse commits every event to SQLite, and on a disk the fsyncs made a
// converge of the example instance four times slower.
fs::path run_base() {
  if (fs::is_directory("/dev/shm") && access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  return fs::temp_directory_path();
}

fs::path template_base() { return fs::path(MXCTL_SYNAPSE_TEMPLATE_DIR); }

// What the template was made from: a different Synapse or different
// scripts make a new one.
std::string template_stamp(const std::string& scripts) {
  std::string stamp = k_template_version + " " + fs::weakly_canonical(scripts).string();
  for (const char* file : {"start", "lib/hsctl.py", "src/synapse/__init__.py"}) {
    std::error_code error;
    auto written = fs::last_write_time(fs::path(scripts) / file, error);
    stamp += " " + (error ? std::string("-") : std::to_string(written.time_since_epoch().count()));
  }
  return stamp + "\n";
}

std::string describe(const std::string& what, const ScriptResult& result) {
  return what + " exited " + std::to_string(result.exit_code) + ":\n" + result.out + result.err;
}

// Makes the template for `options.server_name` in `root`: a server started
// once (so its database exists and its background updates are done), with
// @admin registered, then stopped.
void make_template(const std::string& scripts, const SynapseOptions& options, const fs::path& root) {
  // A template half made by a process that was killed may still run.
  if (fs::exists(root)) {
    run_script({scripts + "/stop", root.string()}, {}, template_base());
  }
  fs::remove_all(root);
  fs::create_directories(root);
  SynapseOptions plain;
  plain.server_name = options.server_name;
  auto env = script_env(plain);
  auto started = run_script({scripts + "/start", root.string(), std::to_string(free_port())}, env, root);
  if (started.exit_code != 0) {
    fs::remove_all(root);
    throw std::runtime_error(describe("start (making the template)", started));
  }
  auto admin = run_script({scripts + "/make-admin", root.string()}, env, root);
  auto stopped = run_script({scripts + "/stop", root.string()}, env, root);
  if (admin.exit_code != 0 || stopped.exit_code != 0) {
    fs::remove_all(root);
    throw std::runtime_error(describe("make-admin (making the template)", admin) + describe("stop", stopped));
  }
  for (const char* left : {"homeserver.log", "stdout.log", "synapse.pid"}) {
    fs::remove(root / left);
  }
  std::ofstream(root / "stamp") << template_stamp(scripts);
}

// Fills the empty `target` from the template of the server name (made first
// when missing or stale), under a lock shared by every test process.
void copy_template(const std::string& scripts, const SynapseOptions& options, const fs::path& target) {
  fs::create_directories(template_base());
  const fs::path root = template_base() / options.server_name;
  const std::string lock_path = root.string() + ".lock";
  int lock = open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) {
    throw std::runtime_error("cannot lock " + lock_path);
  }
  struct Unlock {
    int fd;
    ~Unlock() { close(fd); }
  } unlock{lock};
  if (read_text(root / "stamp") != template_stamp(scripts)) {
    make_template(scripts, options, root);
  }
  for (const char* file :
       {"homeserver.yaml", "log.config", "signing.key", "homeserver.db", "homeserver.db-wal", "homeserver.db-shm"}) {
    if (fs::exists(root / file)) {
      fs::copy_file(root / file, target / file);
    }
  }
  // Requests made with an admin's login-as token are recorded against the
  // person too (the admin whois API shows them): how a test sees that
  // mxctl acted as someone, which leaves no device behind.
  std::ofstream(target / "homeserver.yaml", std::ios::app) << "track_puppeted_user_ips: true\n";
  fs::create_directories(target / "media_store");
  // Shared: Python writes each bytecode file by an atomic rename.
  fs::create_directory_symlink(root / ".pycache", target / ".pycache");
}

}  // namespace

std::optional<std::string> SynapseProcess::find_scripts() {
  const char* chosen = std::getenv("MXCTL_SYNAPSE_DIR");
  const fs::path dir = chosen != nullptr && *chosen != '\0' ? chosen : MXCTL_SYNAPSE_DIR;
  for (const char* script : {"start", "stop", "make-admin"}) {
    if (access((dir / script).c_str(), X_OK) != 0) {
      return std::nullopt;
    }
  }
  return fs::weakly_canonical(dir).string();
}

SynapseProcess::SynapseProcess(std::string scripts, SynapseOptions options)
    : m_scripts(std::move(scripts)), m_options(std::move(options)) {
  m_dir = std::make_unique<TempDir>(run_base());
  start_watchdog();
  try {
    copy_template(m_scripts, m_options, dir());
    start();
    auto admin = run_script({m_scripts + "/make-admin", dir().string()}, script_env(m_options), dir());
    if (admin.exit_code != 0) {
      throw std::runtime_error(describe("make-admin", admin));
    }
    m_admin_token = trimmed(admin.out);
  } catch (...) {
    if (m_running) {
      stop();
    }
    end_watchdog();
    throw;
  }
}

SynapseProcess::~SynapseProcess() {
  if (m_running) {
    stop();
  }
  end_watchdog();
}

void SynapseProcess::start() {
  for (int attempt = 1;; ++attempt) {
    m_port = free_port();
    auto started = run_script({m_scripts + "/start", dir().string(), std::to_string(m_port)}, script_env(m_options),
                              dir());
    if (started.exit_code == 0) {
      m_base_url = trimmed(started.out);
      m_running = true;
      return;
    }
    // Another process may take the port between our probe and Synapse's bind.
    if (attempt == 3 || started.err.find("is taken") == std::string::npos) {
      throw std::runtime_error(describe("start " + dir().string() + " " + std::to_string(m_port), started));
    }
  }
}

void SynapseProcess::stop() {
  auto stopped = run_script({m_scripts + "/stop", dir().string()}, {}, dir());
  m_running = false;
  if (stopped.exit_code != 0) {
    std::fprintf(stderr, "warning: %s\n", describe("stop " + dir().string(), stopped).c_str());
  }
}

// A shell in its own session that stops the server and removes its
// directory unless it reads "done" before this process's end closes the pipe.
void SynapseProcess::start_watchdog() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  const ExecArgs exec({"/bin/sh", "-c",
                       "read -r line; if [ \"$line\" != done ]; then \"$1\" \"$2\" >/dev/null 2>&1; rm -rf \"$2\"; fi",
                       "synapse-watchdog", m_scripts + "/stop", dir().string()},
                      {});
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    setsid();  // out of the test's process group, which a timeout may kill whole
    dup2(fds[0], STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    execve(exec.program(), exec.argv(), exec.envp());
    _exit(127);
  }
  close(fds[0]);
  close(devnull);
  m_watchdog = pid;
  m_watchdog_pipe = fds[1];
}

void SynapseProcess::end_watchdog() {
  if (m_watchdog_pipe >= 0) {
    // A watchdog already gone must not kill us with SIGPIPE.
    struct sigaction ignore {};
    struct sigaction previous {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous);
    [[maybe_unused]] ssize_t written = write(m_watchdog_pipe, "done\n", 5);
    sigaction(SIGPIPE, &previous, nullptr);
    close(m_watchdog_pipe);
    m_watchdog_pipe = -1;
  }
  if (m_watchdog > 0) {
    int status = 0;
    while (waitpid(m_watchdog, &status, 0) < 0 && errno == EINTR) {
    }
    m_watchdog = -1;
  }
}

}  // namespace testing_support

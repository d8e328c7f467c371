#include "tests/support/postgres_server.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

extern char** environ;

namespace testing_support {

namespace fs = std::filesystem;

namespace {

// Left out of the binaries' environment: a PG* variable of the developer's
// shell must not redirect the tests to a real database.
const std::set<std::string> k_env = {"PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE", "PGDATA"};

bool running_as_root() { return geteuid() == 0; }

int version_of(const fs::path& dir) {
  try {
    return std::stoi(dir.filename().string());
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

std::optional<std::string> PostgresServer::find_binaries() {
  std::error_code error;
  fs::path best;
  int best_version = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
    fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl") && version_of(entry.path()) > best_version) {
      best = bin;
      best_version = version_of(entry.path());
    }
  }
  if (best_version < 0) {
    return std::nullopt;
  }
  return best.string();
}

std::string PostgresServer::run(const std::vector<std::string>& args, int& exit_code) const {
  std::vector<std::string> argv;
  if (running_as_root()) {
    argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};
  }
  argv.insert(argv.end(), args.begin(), args.end());
  // Not run_process: the server that pg_ctl leaves running would inherit
  // any pipe we read from and keep it open forever. Output goes to a file
  // and every other descriptor is closed before exec.
  const std::string output_path = (m_dir.path() / "command.out").string();
  std::vector<char*> pointers;
  for (std::string& arg : argv) {
    pointers.push_back(arg.data());
  }
  pointers.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    std::string name = text.substr(0, text.find('='));
    if (!k_env.contains(name)) {
      env_strings.push_back(text);
    }
  }
  std::vector<char*> env;
  for (std::string& entry : env_strings) {
    env.push_back(entry.data());
  }
  env.push_back(nullptr);
  int out = open(output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || in < 0) {
    throw std::runtime_error("cannot open " + output_path);
  }
  pid_t pid = fork();
  if (pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    for (int fd = 3; fd < 1024; ++fd) {
      close(fd);
    }
    execve(pointers[0], pointers.data(), env.data());
    _exit(127);
  }
  close(out);
  close(in);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream text(output_path);
  return std::string((std::istreambuf_iterator<char>(text)), std::istreambuf_iterator<char>());
}

PostgresServer::PostgresServer(const std::string& bin_dir) : m_bin(bin_dir) {
  m_data = (m_dir.path() / "data").string();
  m_socket = (m_dir.path() / "socket").string();
  fs::create_directories(m_socket);
  if (running_as_root()) {
    // The cluster's owner must reach and own its directories.
    struct passwd* postgres = getpwnam("postgres");
    if (postgres == nullptr) {
      throw std::runtime_error("running as root but there is no postgres user to run the cluster");
    }
    fs::permissions(m_dir.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::create_directories(m_data);
    for (const std::string& dir : {m_data, m_socket}) {
      if (chown(dir.c_str(), postgres->pw_uid, postgres->pw_gid) != 0) {
        throw std::runtime_error("cannot give " + dir + " to the postgres user");
      }
    }
  }
  int code = 0;
  std::string output = run({m_bin + "/initdb", "-D", m_data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                            "--locale=C", "--no-sync"},
                           code);
  if (code != 0) {
    throw std::runtime_error("initdb failed: " + output);
  }
  // No TCP at all: the socket lives in our directory, so parallel test
  // processes and a system PostgreSQL never collide.
  output = run({m_bin + "/pg_ctl", "-D", m_data, "-l", m_data + "/server.log", "-w", "-o",
                "-c listen_addresses='' -k " + m_socket + " -F", "start"},
               code);
  if (code != 0) {
    throw std::runtime_error("pg_ctl start failed: " + output);
  }
  m_started = true;
}

PostgresServer::~PostgresServer() {
  if (m_started) {
    int code = 0;
    std::string output = run({m_bin + "/pg_ctl", "-D", m_data, "-m", "immediate", "-w", "stop"}, code);
    if (code != 0) {
      std::fprintf(stderr, "warning: pg_ctl stop failed, a test server may be left running: %s\n", output.c_str());
    }
  }
}

void PostgresServer::create_database(const std::string& name) {
  int code = 0;
  std::string output = run({m_bin + "/createdb", "-h", m_socket, "-U", "postgres", name}, code);
  if (code != 0) {
    throw std::runtime_error("createdb " + name + " failed: " + output);
  }
}

std::string PostgresServer::uri(const std::string& name) const {
  return "postgresql:///" + name + "?host=" + m_socket + "&user=postgres";
}

std::string PostgresServer::conninfo(const std::string& name) const {
  return "host=" + m_socket + " user=postgres dbname=" + name;
}

PostgresServer* shared_postgres_server() {
  static std::unique_ptr<PostgresServer> server;
  static std::optional<std::string> bin = PostgresServer::find_binaries();
  if (!bin) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) != "" && std::string(ci) != "false") {
      FAIL("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) but CI is set: "
           "run scripts/install-deps");
    }
    WARN("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): skipping the PostgreSQL runs");
    return nullptr;
  }
  if (!server) {
    server = std::make_unique<PostgresServer>(*bin);
  }
  return server.get();
}

std::string fresh_database_name() {
  static std::atomic<int> counter{0};
  return "t" + std::to_string(++counter);
}

std::string fresh_database_uri() {
  PostgresServer* server = shared_postgres_server();
  if (server == nullptr) {
    return {};
  }
  const std::string name = fresh_database_name();
  server->create_database(name);
  return server->uri(name);
}

}  // namespace testing_support

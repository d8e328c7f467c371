#pragma once
// Shared by the end-to-end tests that run the real mxctl binary against an
// in-process mxsim: the fixture (server, bot, manifests copy, state store),
// a child process that can be killed halfway, and an audit of what the
// homeserver holds, read straight from the simulator's state rather than
// from anything mxctl reports about itself.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/state_store.h"
#include "mxsim/homeserver.h"
#include "mxsim/server.h"
#include "tests/support/exec_args.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace e2e {

inline const std::string k_server_name = "mxsim.test";
inline const std::string k_bot = "@mxctl:mxsim.test";
/// The ownership marker mxctl puts in every room it manages (its default settings).
inline const std::string k_marker_type = "org.mxctl.managed";

/// A running simulator with the bot provisioned as a server admin, a copy of
/// the example manifests to edit, and a state store path.
class Fixture {
 public:
  Fixture() : m_server(mxsim::ServerOptions{k_server_name, "127.0.0.1", 0}) {
    m_server.start();
    m_server.homeserver().add_user("mxctl", "bot-password", true);
    m_token = m_server.homeserver().issue_token(k_bot);
    std::filesystem::copy(std::string(MXCTL_SOURCE_DIR) + "/manifests", manifests(),
                          std::filesystem::copy_options::recursive);
  }

  /// The directory of the manifests copy.
  std::string manifests() const { return (m_dir.path() / "manifests").string(); }
  /// The state store mxctl uses (MXCTL_STATE).
  std::string state() const { return (m_dir.path() / "mxctl.db").string(); }
  /// A scratch path in the fixture's temporary directory.
  std::string scratch(const std::string& name) const { return (m_dir.path() / name).string(); }

  /// The environment mxctl needs to reach the simulator as the bot.
  std::map<std::string, std::string> env() const {
    return {{"MATRIX_HOMESERVER_URL", m_server.base_url()},
            {"MATRIX_SERVER_NAME", k_server_name},
            {"MATRIX_BOT_USER_ID", k_bot},
            {"MATRIX_BOT_ACCESS_TOKEN", m_token},
            {"MXCTL_STATE", state()}};
  }

  /// Runs mxctl with `args` to completion.
  testing_support::ProcessResult mxctl(std::vector<std::string> args) const {
    std::vector<std::string> argv = {MXCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing_support::run_process(argv, env());
  }

  /// Replaces the first occurrence of `from` with `to` in a manifest file.
  void edit(const std::string& file, const std::string& from, const std::string& to) const {
    std::string path = manifests() + "/" + file;
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto pos = text.find(from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    std::ofstream(path, std::ios::trunc) << text;
  }

  /// Writes (or replaces) the manifest file `file` in the manifests copy.
  void write_manifest(const std::string& file, const std::string& text) const {
    std::ofstream(manifests() + "/" + file, std::ios::trunc) << text;
  }

  mxsim::Server& server() { return m_server; }
  mxsim::Homeserver& homeserver() { return m_server.homeserver(); }
  /// The bot's access token.
  const std::string& token() const { return m_token; }

  /// Answers one request as the bot, in process (no HTTP, no mxctl).
  mxsim::ApiResponse as_bot(const std::string& method, const std::string& target, const nlohmann::json& body) {
    return homeserver().handle(mxsim::make_request(method, target, {{"authorization", "Bearer " + m_token}},
                                                   body.dump()));
  }

 private:
  testing_support::TempDir m_dir;
  mxsim::Server m_server;
  std::string m_token;
};

/// The room id the fixture's state store keeps for room `key`; REQUIREs one.
inline std::string stored_room_id(const Fixture& fx, const std::string& key) {
  auto store = adapters::open_sqlite_store(fx.state());
  REQUIRE(store);
  auto ids = (*store)->room_ids();
  REQUIRE(ids);
  REQUIRE(ids->count(key));
  return ids->at(key);
}

/// "Requests: 12 (12 reads, 0 writes, 3 retried), ...": the writes a pass made.
inline int writes_in(const std::string& stats) {
  std::smatch match;
  REQUIRE(std::regex_search(stats, match, std::regex(R"((\d+) writes)")));
  return std::stoi(match[1]);
}

/// The numbers of mxctl's --stats line: requests, reads, writes, retried.
struct ClientStats {
  int requests = 0;
  int reads = 0;
  int writes = 0;
  int retried = 0;
};

/// Parses the last "Requests: N (R reads, W writes, X retried)" line of `err`.
inline ClientStats client_stats_in(const std::string& err) {
  std::regex line(R"(Requests: (\d+) \((\d+) reads, (\d+) writes, (\d+) retried\))");
  ClientStats stats;
  bool found = false;
  for (auto it = std::sregex_iterator(err.begin(), err.end(), line); it != std::sregex_iterator(); ++it) {
    stats = {std::stoi((*it)[1]), std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoi((*it)[4])};
    found = true;
  }
  INFO(err);
  REQUIRE(found);
  return stats;
}

/// A child process started with fork/exec whose stdout and stderr go to
/// files, so it can be killed at any moment without a pipe to drain. The
/// destructor kills and reaps a child still running.
class Child {
 public:
  /// Starts `argv` (argv[0] a path) with `env` added to the inherited
  /// environment, stdin from /dev/null, output to `out_path`/`err_path`.
  Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
        std::string out_path, std::string err_path)
      : m_out_path(std::move(out_path)), m_err_path(std::move(err_path)) {
    const testing_support::ExecArgs exec(argv, env);
    // Everything is opened before fork: only async-signal-safe calls between fork and exec.
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = open(m_out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err = open(m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (in < 0 || out < 0 || err < 0) {
      throw std::runtime_error("cannot open the child's standard streams");
    }
    m_pid = fork();
    if (m_pid < 0) {
      throw std::runtime_error("fork failed");
    }
    if (m_pid == 0) {
      dup2(in, STDIN_FILENO);
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      execve(exec.program(), exec.argv(), exec.envp());
      _exit(127);
    }
    close(in);
    close(out);
    close(err);
  }

  ~Child() {
    if (running()) {
      kill_and_wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return m_pid; }

  /// True until the child has exited (reaping it once it has).
  bool running() {
    if (m_exit_code) {
      return false;
    }
    int status = 0;
    if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
      m_exit_code = decode(status);
      return false;
    }
    return true;
  }

  /// Sends SIGKILL unless the child already exited, then reaps it (so its pid
  /// is really gone, not a zombie); returns its exit code, 128+9 when killed.
  int kill_and_wait() {
    if (running()) {
      kill(m_pid, SIGKILL);
    }
    return wait();
  }

  /// Waits for the child to exit; returns its exit code (128+signal when killed).
  int wait() {
    if (!m_exit_code) {
      int status = 0;
      while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
      }
      m_exit_code = decode(status);
    }
    return *m_exit_code;
  }

  /// What the child wrote to stdout / stderr so far.
  std::string out() const { return read_file(m_out_path); }
  std::string err() const { return read_file(m_err_path); }

 private:
  static int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }
  static std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  std::string m_out_path;
  std::string m_err_path;
  pid_t m_pid = -1;
  std::optional<int> m_exit_code;
};

/// A room of the desired state, as `mxctl desired -o json` compiles it.
struct DesiredRoom {
  std::string key;
  std::string alias;
  std::optional<std::string> message;  ///< body of the once-message, if the room has one
};

/// The desired rooms of the fixture's manifests, compiled by mxctl itself.
inline std::vector<DesiredRoom> desired_rooms(const Fixture& fx) {
  auto result = fx.mxctl({"desired", fx.manifests(), "-o", "json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  nlohmann::json state = nlohmann::json::parse(result.out);
  std::vector<DesiredRoom> rooms;
  for (const auto& [key, room] : state.at("rooms").items()) {
    DesiredRoom desired;
    desired.key = room.value("key", key);
    desired.alias = room.at("alias").get<std::string>();
    if (room.contains("once_message") && room["once_message"].is_object()) {
      desired.message = room["once_message"].at("body").get<std::string>();
    }
    rooms.push_back(desired);
  }
  return rooms;
}

/// What the homeserver holds, read from the simulator's own state.
struct ServerAudit {
  std::map<std::string, std::vector<std::string>> marked;  ///< marker key -> ids of rooms carrying it
  std::map<std::string, std::string> aliases;              ///< alias -> room id (the directory)
  std::map<std::string, std::vector<std::string>> bot_messages;  ///< room id -> bodies of the bot's m.room.message
  std::vector<std::string> unmarked_bot_rooms;  ///< rooms the bot created that carry no marker
  std::size_t rooms = 0;                        ///< rooms in all
};

/// Reads the simulator's state under its lock.
inline ServerAudit audit(mxsim::Homeserver& homeserver) {
  ServerAudit out;
  auto lock = homeserver.read_lock();
  const mxsim::ServerState& state = homeserver.state();
  for (const auto& [alias, entry] : state.aliases) {
    out.aliases[alias] = entry.room_id;
  }
  for (const auto& [room_id, room] : state.rooms) {
    ++out.rooms;
    const mxsim::Event* marker = room->state_event(k_marker_type, "");
    if (marker != nullptr && marker->content.is_object() && marker->content.contains("key")) {
      out.marked[marker->content.value("key", "")].push_back(room_id);
    } else if (room->creator() == k_bot) {
      out.unmarked_bot_rooms.push_back(room_id);
    }
    for (const mxsim::Event& event : room->events()) {
      if (event.type == "m.room.message" && event.sender == k_bot && !event.is_state()) {
        out.bot_messages[room_id].push_back(event.content.value("body", ""));
      }
    }
  }
  return out;
}

/// Everything wrong with the homeserver against `desired`, one line per
/// problem; empty when each desired room exists exactly once with our
/// marker and is the one its alias names, no marked room is outside the
/// desired state (an orphan), the bot created no room without a marker, and
/// each room holds exactly its once-message (or no message) from the bot.
inline std::vector<std::string> ownership_problems(const ServerAudit& audit, const std::vector<DesiredRoom>& desired) {
  std::vector<std::string> problems;
  std::set<std::string> desired_keys;
  for (const DesiredRoom& room : desired) {
    desired_keys.insert(room.key);
    auto marked = audit.marked.find(room.key);
    if (marked == audit.marked.end()) {
      problems.push_back(room.key + ": no room carries its marker");
      continue;
    }
    if (marked->second.size() != 1) {
      problems.push_back(room.key + ": " + std::to_string(marked->second.size()) + " rooms carry its marker");
    }
    auto alias = audit.aliases.find(room.alias);
    if (alias == audit.aliases.end()) {
      problems.push_back(room.key + ": alias " + room.alias + " does not exist");
    } else if (std::find(marked->second.begin(), marked->second.end(), alias->second) == marked->second.end()) {
      problems.push_back(room.key + ": alias " + room.alias + " names " + alias->second + ", not a room of the key");
    }
    for (const std::string& room_id : marked->second) {
      std::vector<std::string> messages;
      if (auto sent = audit.bot_messages.find(room_id); sent != audit.bot_messages.end()) {
        messages = sent->second;
      }
      std::vector<std::string> expected;
      if (room.message) {
        expected.push_back(*room.message);
      }
      if (messages != expected) {
        problems.push_back(room.key + " (" + room_id + "): the bot sent " + std::to_string(messages.size()) +
                           " messages, expected " + std::to_string(expected.size()));
      }
    }
  }
  for (const auto& [key, room_ids] : audit.marked) {
    if (!desired_keys.count(key)) {
      problems.push_back(key + ": " + std::to_string(room_ids.size()) + " marked rooms not in the desired state");
    }
  }
  for (const std::string& room_id : audit.unmarked_bot_rooms) {
    problems.push_back(room_id + ": created by the bot without a marker");
  }
  return problems;
}

}  // namespace e2e

// mxsim: the in-memory Matrix homeserver simulator as a program. Serves the
// client-server API, the Synapse admin API and appservice calls on one
// address, prints its URL once it accepts connections, and stops cleanly on
// SIGTERM/SIGINT (saving its state file if it has one).

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "mxsim/appservice.h"
#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"
#include "mxsim/persistence.h"
#include "mxsim/server.h"

namespace {

const char* k_usage = R"(usage: mxsim [options]

An in-memory Matrix homeserver simulator (client-server API v3, the Synapse
admin API, application services) with real semantics: access tokens, power
levels, membership rules, aliases, sync. For tests, demos and CI.

options:
  --listen HOST:PORT        address to serve on (default 127.0.0.1:8008; port 0 = any free port)
  --server-name NAME        the homeserver's server name (default mxsim.test)
  --admin-token-file F      access token of the admin account: read from F when it
                            exists, otherwise generated and written to F (mode 0600)
  --admin-user LOCALPART    localpart of the admin account created at start (default admin)
  --admin-password P        its password (default: random; log in with the token instead)
  --appservice REG.yaml     load an application service registration (repeatable)
  --state-file F            load state from F at start (if present) and save it there
                            shortly after changes and on shutdown
  --control-token T         extra bearer token for the /_mxsim control endpoint
                            (server admins' tokens are always accepted)
  --rate-limit              switch rate limiting on (429 M_LIMIT_EXCEEDED, Synapse's defaults)
  --room-version V          default room version for createRoom (default 10)
  --no-suspend-api          answer the suspend admin API like Synapse 1.67 (400 M_UNRECOGNIZED)
  --no-locked-flag          no `locked` account flag, like Synapse 1.67 (accepted, ignored, not shown)
  --sync-cache-ms MS        reuse identical /sync answers for MS ms (default 120000 like
                            Synapse; 0 disables)
  --delay-ms MS             answer every request (but /_mxsim) MS ms late, like a server
                            across a network; concurrent requests wait in parallel
  --fork-concurrent-writes  fork rooms like Synapse: two writes to one room in flight
                            together share a parent, and an incremental /sync from
                            before both misses the state change of one of them
  --fork-hold-ms MS         how long each room write stays in flight first (default 30)
  --unreachable-server NAME invites to users on server NAME fail with 502 M_UNKNOWN
                            "Can't connect to server NAME" (repeatable)
  --federation-timeout-ms MS  how long such an invite waits before failing (default 0)
  --help                    show this help

Once listening, mxsim prints its base URL (http://HOST:PORT) on one line of
stdout. Control endpoint (bearer: admin token or --control-token):
  GET  /_mxsim/health            liveness (no token needed)
  GET  /_mxsim/journal?after=N   answered requests with method, route, status, user
  GET  /_mxsim/stats             counters: requests, reads, writes, by route, by status
  POST /_mxsim/reset-stats       clear journal and counters
  GET|POST|DELETE /_mxsim/faults fault rules: {"method","path_prefix","path_regex",
                                 "times","status","errcode","error","retry_after_ms",
                                 "delay_ms","drop"}
  GET|POST /_mxsim/ratelimit     {"enabled": bool, "actions": {"message": {"per_second", "burst"}}}
  DELETE /_mxsim/sync-cache      forget cached /sync answers
  GET|POST /_mxsim/delay         {"ms": N}: the fixed delay of every request (0 = none)
  GET|POST /_mxsim/forks         {"enabled": bool, "hold_ms": N}: forked room writes
  GET|POST /_mxsim/federation    {"unreachable": [server names], "timeout_ms": N}
)";

struct Options {
  std::string host = "127.0.0.1";
  int port = 8008;
  std::string server_name = "mxsim.test";
  std::string admin_token_file;
  std::string admin_user = "admin";
  std::string admin_password;
  std::vector<std::string> appservices;
  std::string state_file;
  std::string control_token;
  bool rate_limit = false;
  std::string room_version = "10";
  bool suspend_api = true;
  bool locked_flag = true;
  int64_t sync_cache_ms = 120000;
  int64_t delay_ms = 0;
  mxsim::ForkSettings forks;
  mxsim::FederationSettings federation;
};

[[noreturn]] void fail(const std::string& message) {
  std::cerr << "mxsim: " << message << "\n";
  std::exit(2);
}

int64_t non_negative(const std::string& option, const std::string& text) {
  try {
    int64_t number = std::stoll(text);
    if (number >= 0) {
      return number;
    }
  } catch (const std::exception&) {
  }
  fail(option + " wants a number of 0 or more");
}

Options parse_arguments(int argc, char** argv) {
  Options options;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        fail(arg + " needs a value");
      }
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << k_usage;
      std::exit(0);
    } else if (arg == "--listen") {
      std::string listen = value();
      size_t colon = listen.rfind(':');
      if (colon == std::string::npos) {
        fail("--listen wants HOST:PORT, got '" + listen + "'");
      }
      options.host = listen.substr(0, colon);
      try {
        options.port = std::stoi(listen.substr(colon + 1));
      } catch (const std::exception&) {
        fail("--listen: bad port in '" + listen + "'");
      }
    } else if (arg == "--server-name") {
      options.server_name = value();
    } else if (arg == "--admin-token-file") {
      options.admin_token_file = value();
    } else if (arg == "--admin-user") {
      options.admin_user = value();
    } else if (arg == "--admin-password") {
      options.admin_password = value();
    } else if (arg == "--appservice") {
      options.appservices.push_back(value());
    } else if (arg == "--state-file") {
      options.state_file = value();
    } else if (arg == "--control-token") {
      options.control_token = value();
    } else if (arg == "--rate-limit") {
      options.rate_limit = true;
    } else if (arg == "--room-version") {
      options.room_version = value();
    } else if (arg == "--no-suspend-api") {
      options.suspend_api = false;
    } else if (arg == "--no-locked-flag") {
      options.locked_flag = false;
    } else if (arg == "--sync-cache-ms") {
      try {
        options.sync_cache_ms = std::stoll(value());
      } catch (const std::exception&) {
        fail("--sync-cache-ms wants a number");
      }
    } else if (arg == "--delay-ms") {
      try {
        options.delay_ms = std::stoll(value());
      } catch (const std::exception&) {
        fail("--delay-ms wants a number");
      }
      if (options.delay_ms < 0) {
        fail("--delay-ms wants a number of 0 or more");
      }
    } else if (arg == "--fork-concurrent-writes") {
      options.forks.enabled = true;
    } else if (arg == "--fork-hold-ms") {
      options.forks.hold_ms = non_negative(arg, value());
    } else if (arg == "--unreachable-server") {
      options.federation.unreachable.insert(value());
    } else if (arg == "--federation-timeout-ms") {
      options.federation.timeout_ms = non_negative(arg, value());
    } else {
      fail("unknown option '" + arg + "' (see --help)");
    }
  }
  return options;
}

std::optional<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) {
    token.pop_back();
  }
  if (token.empty()) {
    fail(path + ": admin token file is empty");
  }
  return token;
}

void write_token_file(const std::string& path, const std::string& token) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) {
    fail(path + ": cannot write admin token file");
  }
  out << token << "\n";
  out.close();
  chmod(path.c_str(), S_IRUSR | S_IWUSR);
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_arguments(argc, argv);

  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    mxsim::Server server(mxsim::ServerOptions{options.server_name, options.host, options.port});
    mxsim::Homeserver& homeserver = server.homeserver();
    mxsim::HomeserverSettings& settings = homeserver.mutable_settings();
    settings.control_token = options.control_token;
    settings.default_room_version = options.room_version;
    settings.suspend_api = options.suspend_api;
    settings.locked_flag = options.locked_flag;
    settings.sync_cache_ms = options.sync_cache_ms;
    homeserver.rate_limiter().set_enabled(options.rate_limit);
    homeserver.set_request_delay(std::chrono::milliseconds(options.delay_ms));
    homeserver.forks().configure(options.forks);
    homeserver.federation().configure(options.federation);

    if (!options.state_file.empty()) {
      mxsim::read_state_file(homeserver, options.state_file);
    }
    for (const auto& path : options.appservices) {
      homeserver.add_appservice(mxsim::load_registration_file(path));
    }

    std::string admin_id = "@" + options.admin_user + ":" + options.server_name;
    {
      auto lock = homeserver.read_lock();
      bool exists = homeserver.state().find_user(admin_id) != nullptr;
      lock.unlock();
      if (!exists) {
        std::string password = options.admin_password.empty() ? mxsim::random_string(24) : options.admin_password;
        homeserver.add_user(options.admin_user, password, true);
      }
    }
    if (!options.admin_token_file.empty()) {
      if (auto token = read_token_file(options.admin_token_file)) {
        homeserver.install_token(admin_id, *token);
      } else {
        write_token_file(options.admin_token_file, homeserver.issue_token(admin_id));
      }
    }

    std::optional<mxsim::StateSaver> saver;
    if (!options.state_file.empty()) {
      saver.emplace(homeserver, options.state_file);
    }
    server.start();
    std::cout << server.base_url() << std::endl;

    int received = 0;
    sigwait(&stop_signals, &received);
    server.stop();
    if (saver) {
      saver->stop();
    }
    return 0;
  } catch (const mxsim::MatrixError& error) {
    std::cerr << "mxsim: " << error.errcode() << ": " << error.what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "mxsim: " << error.what() << "\n";
    return 1;
  }
}

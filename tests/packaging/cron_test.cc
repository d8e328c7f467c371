// The installed cron example and environment example: the cron line is
// valid, runs a command line mxctl accepts, stays quiet when the pass
// succeeds and prints the pass's output (for cron to mail) when it fails.

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include "tests/e2e/fixture.h"
#include "tests/packaging/installed_tree.h"
#include "tests/packaging/mxctl_cli.h"
#include "tests/packaging/unit_file.h"
#include "tests/support/process.h"

namespace cron_test {

namespace {

using namespace packaging_test;

// A /etc/cron.d file: VAR=value lines and one job
// "MIN HOUR DOM MON DOW USER COMMAND".
struct CronFile {
  std::map<std::string, std::string> env;
  std::vector<std::string> jobs;
};

CronFile parse_cron(const std::string& text) {
  CronFile cron;
  std::istringstream in(text);
  std::string line;
  static const std::regex k_assignment(R"(([A-Za-z_][A-Za-z0-9_]*)=(.*))");
  while (std::getline(in, line)) {
    std::smatch match;
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if (std::regex_match(line, match, k_assignment)) {
      cron.env[match[1]] = match[2];
    } else {
      cron.jobs.push_back(line);
    }
  }
  return cron;
}

// Cron turns a bare % in the command into a newline and `\%` into %.
std::string cron_unescape(const std::string& command) {
  std::string out;
  for (std::size_t i = 0; i < command.size(); ++i) {
    if (command[i] == '\\' && i + 1 < command.size() && command[i + 1] == '%') {
      out += '%';
      ++i;
    } else if (command[i] == '%') {
      out += '\n';
    } else {
      out += command[i];
    }
  }
  return out;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

struct CronJob {
  std::vector<std::string> schedule;  ///< the five time fields
  std::string user;
  std::string command;  ///< as sh receives it
};

CronJob installed_job(const InstalledTree& tree) {
  CronFile cron = parse_cron(tree.read(installed::k_cron));
  REQUIRE(cron.jobs.size() == 1);
  std::istringstream fields(cron.jobs[0]);
  CronJob job;
  job.schedule.resize(5);
  for (auto& field : job.schedule) {
    fields >> field;
  }
  fields >> job.user;
  std::getline(fields, job.command);
  job.command = cron_unescape(job.command.substr(job.command.find_first_not_of(' ')));
  return job;
}

// The words of the mxctl command line inside the job's shell command.
std::vector<std::string> mxctl_words(const std::string& command) {
  std::size_t at = command.find(installed::k_mxctl + " ");
  REQUIRE(at != std::string::npos);
  std::vector<std::string> words;
  for (const std::string& word : split_words(command.substr(at))) {
    if (word.find_first_of(");|&<>") != std::string::npos) {
      break;
    }
    words.push_back(word);
  }
  return words;
}

}  // namespace

TEST_CASE("cron: the installed cron line runs `mxctl reconcile` every 15 minutes as mxctl", "[packaging]") {
  InstalledTree tree;
  CronFile cron = parse_cron(tree.read(installed::k_cron));
  CronJob job = installed_job(tree);
  CHECK(job.schedule == std::vector<std::string>{"*/15", "*", "*", "*", "*"});
  CHECK(job.user == "mxctl");
  // One command: a bare % would have split it into a command and its stdin.
  CHECK(job.command.find('\n') == std::string::npos);
  auto syntax = testing_support::run_process({"/bin/sh", "-n", "-c", job.command});
  INFO("sh -n: " << syntax.err);
  CHECK(syntax.exit_code == 0);

  // The same store, settings and token as the systemd units.
  CHECK(cron.env["MXCTL_STATE"] == "/var/lib/mxctl/mxctl.db");
  CHECK(cron.env["MATRIX_BOT_ACCESS_TOKEN_FILE"] == "/etc/mxctl/access-token");
  CHECK_THAT(job.command, Catch::Contains(". /etc/mxctl/mxctl.env;"));

  auto argv = mxctl_words(job.command);
  REQUIRE(argv.size() >= 2);
  CHECK(argv[1] == "reconcile");
  CHECK(std::find(argv.begin(), argv.end(), "/etc/mxctl/manifests") != argv.end());
  argv[0] = tree.at(argv[0]).string();
  check_accepted(argv);
}

TEST_CASE("cron: the job is silent after a good pass and prints the pass's output after a failed one",
          "[packaging]") {
  InstalledTree tree;
  e2e::Fixture fx;
  testing_support::TempDir etc;
  CronJob job = installed_job(tree);
  CronFile cron = parse_cron(tree.read(installed::k_cron));

  // The installed environment example, pointed at the simulator, as an
  // operator would fill it in.
  std::string env_file = tree.read(installed::k_env_example);
  replace_all(env_file, "MATRIX_HOMESERVER_URL=https://matrix.example.org",
              "MATRIX_HOMESERVER_URL=" + fx.server().base_url());
  replace_all(env_file, "MATRIX_SERVER_NAME=example.org", "MATRIX_SERVER_NAME=" + e2e::k_server_name);
  const std::string env_path = etc.write("mxctl.env", env_file);
  const std::string token_path = etc.write("access-token", fx.token() + "\n");

  // The job as cron would run it, with /etc/mxctl and the store moved into
  // temporary directories and the binary into the DESTDIR.
  std::string command = job.command;
  replace_all(command, "/etc/mxctl/mxctl.env", env_path);
  replace_all(command, "/etc/mxctl/manifests", fx.manifests());
  replace_all(command, installed::k_mxctl, tree.at(installed::k_mxctl).string());
  std::map<std::string, std::string> env = {{"PATH", cron.env["PATH"]},
                                            {"MXCTL_STATE", fx.state()},
                                            {"MATRIX_BOT_ACCESS_TOKEN_FILE", token_path}};
  // Nothing of this process's own settings may help the job along.
  for (const char* name : {"MATRIX_HOMESERVER_URL", "MATRIX_SERVER_NAME", "MATRIX_BOT_USER_ID",
                           "MATRIX_BOT_ACCESS_TOKEN", "MXCTL_CONFIG", "MXCTL_FROM_DB"}) {
    env[name] = "";
  }

  auto good = testing_support::run_process({"/bin/sh", "-c", command}, env);
  INFO("good pass: " << good.out << good.err);
  CHECK(good.exit_code == 0);
  CHECK(good.out.empty());
  CHECK(good.err.empty());
  // It did apply: the homeserver now matches the manifests.
  CHECK(fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"}).exit_code == 0);

  fx.write_manifest("broken.yaml", "apiVersion: mxctl/v1\nkind: Community\nmetadata: {name: [\n");
  auto bad = testing_support::run_process({"/bin/sh", "-c", command}, env);
  INFO("failed pass: " << bad.out << bad.err);
  CHECK_THAT(bad.out, Catch::Contains("broken.yaml"));
  CHECK(bad.err.empty());
}

TEST_CASE("cron: the environment example names every variable mxctl reads", "[packaging]") {
  InstalledTree tree;
  const std::string text = tree.read(installed::k_env_example);
  for (const std::string& name : environment_variables(tree.at(installed::k_mxctl).string())) {
    INFO("variable " << name);
    CHECK_THAT(text, Catch::Contains(name + "="));
  }
  // Lines both systemd's EnvironmentFile= and sh read the same way, and
  // nothing set that would override what the units set themselves.
  std::istringstream in(text);
  std::string line;
  static const std::regex k_line(R"([A-Z_][A-Z0-9_]*=("[^"$`\\]*"|[^"'$`\\ ]*))");
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    INFO("line " << line);
    CHECK(std::regex_match(line, k_line));
    CHECK(line.rfind("MXCTL_STATE=", 0) != 0);
    CHECK(line.rfind("MATRIX_BOT_ACCESS_TOKEN_FILE=", 0) != 0);
  }
}

}  // namespace cron_test

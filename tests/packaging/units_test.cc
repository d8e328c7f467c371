// The installed systemd units: they parse, carry what packaging/README.md
// promises, name the installed mxctl, and run command lines mxctl accepts.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "tests/packaging/installed_tree.h"
#include "tests/packaging/mxctl_cli.h"
#include "tests/packaging/unit_file.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace units_test {

namespace {

using namespace packaging_test;

// The options mxctl.service may give `mxctl run`: PATH... [--from-db URI]
// [--listen ADDR:PORT] [--log-format text|json].
const std::set<std::string> k_run_options = {"--from-db", "--listen", "--log-format"};

UnitFile installed_unit(const InstalledTree& tree, const std::string& path) {
  UnitFile unit = parse_unit_file(tree.read(path));
  INFO(path << " has lines that are not unit-file syntax");
  CHECK(unit.problems.empty());
  return unit;
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) {
    out += value + "\n";
  }
  return out;
}

// What both service units share: the installed binary, the settings, the
// store in the StateDirectory, the token as a credential, and the hardening.
void check_service_common(const InstalledTree& tree, const UnitFile& unit) {
  auto exec_start = unit.value("Service", "ExecStart");
  REQUIRE(exec_start);
  auto argv = split_words(*exec_start);
  REQUIRE(!argv.empty());
  CHECK(argv[0] == installed::k_mxctl);
  CHECK(std::filesystem::is_regular_file(tree.at(argv[0])));

  CHECK(unit.value("Service", "EnvironmentFile") == "/etc/mxctl/mxctl.env");
  std::string environment = joined(unit.values("Service", "Environment"));
  CHECK_THAT(environment, Catch::Contains("MXCTL_STATE=%S/mxctl/mxctl.db\n"));
  CHECK_THAT(environment, Catch::Contains("MATRIX_BOT_ACCESS_TOKEN_FILE=%d/access-token\n"));
  CHECK(unit.value("Service", "LoadCredential") == "access-token:/etc/mxctl/access-token");
  CHECK(unit.value("Service", "StateDirectory") == "mxctl");
  // One user name for both units, so either style can take over the store.
  CHECK(unit.value("Service", "DynamicUser") == "yes");
  CHECK(unit.value("Service", "User") == "mxctl");

  CHECK(unit.value("Service", "NoNewPrivileges") == "yes");
  CHECK(unit.value("Service", "ProtectSystem") == "strict");
  CHECK(unit.value("Service", "ProtectHome") == "yes");
  CHECK(unit.value("Service", "PrivateTmp") == "yes");
  CHECK(unit.value("Service", "RestrictAddressFamilies") == "AF_INET AF_INET6 AF_UNIX");
  // Nothing may take away what SQLite in the StateDirectory needs.
  CHECK(unit.values("Service", "ReadOnlyPaths").empty());
  CHECK(unit.values("Service", "InaccessiblePaths").empty());
  CHECK(unit.value("Service", "PrivateNetwork") != "yes");
}

}  // namespace

TEST_CASE("units: mxctl.service runs the controller with restart, reload and a graceful stop", "[packaging]") {
  InstalledTree tree;
  UnitFile unit = installed_unit(tree, installed::k_service);
  check_service_common(tree, unit);

  // exec (or simple): mxctl does not speak sd_notify, so never notify.
  auto type = unit.value("Service", "Type");
  CHECK((type == "exec" || type == "simple"));
  CHECK(unit.value("Service", "Restart") == "on-failure");
  CHECK(unit.value("Service", "KillSignal") == "SIGTERM");
  // mxctl run stops within about 30 s of SIGTERM; systemd must wait longer.
  auto stop = unit.value("Service", "TimeoutStopSec");
  REQUIRE(stop);
  auto seconds = parse_time_span(*stop);
  REQUIRE(seconds);
  CHECK(*seconds > 30);
  CHECK(*seconds <= 90);
  CHECK(unit.value("Service", "ExecReload") == "/bin/kill -HUP $MAINPID");
  CHECK(unit.value("Install", "WantedBy") == "multi-user.target");
}

TEST_CASE("units: mxctl.service's ExecStart is `mxctl run` with the run command's options", "[packaging]") {
  InstalledTree tree;
  UnitFile unit = installed_unit(tree, installed::k_service);
  auto exec_start = unit.value("Service", "ExecStart");
  REQUIRE(exec_start);
  auto argv = split_words(*exec_start);
  REQUIRE(argv.size() >= 2);
  CHECK(argv[0] == installed::k_mxctl);
  CHECK(argv[1] == "run");
  CHECK(std::find(argv.begin(), argv.end(), "/etc/mxctl/manifests") != argv.end());
  for (std::size_t i = 2; i < argv.size(); ++i) {
    if (argv[i].rfind("--", 0) != 0) {
      continue;
    }
    INFO("option " << argv[i]);
    REQUIRE(k_run_options.count(argv[i]) == 1);
    REQUIRE(i + 1 < argv.size());
    const std::string& value = argv[i + 1];
    if (argv[i] == "--listen") {
      CHECK(std::regex_match(value, std::regex(R"([0-9.]+:[0-9]+|\[[0-9a-fA-F:]+\]:[0-9]+)")));
    } else if (argv[i] == "--log-format") {
      CHECK((value == "text" || value == "json"));
    }
  }

  // mxctl itself must accept the line, as with the cron style.
  argv[0] = tree.at(argv[0]).string();
  check_accepted(argv);
}

TEST_CASE("units: the cron-style units run `mxctl reconcile` every 15 minutes with options it accepts",
          "[packaging]") {
  InstalledTree tree;
  UnitFile service = installed_unit(tree, installed::k_reconcile_service);
  check_service_common(tree, service);
  CHECK(service.value("Service", "Type") == "oneshot");
  auto exec_start = service.value("Service", "ExecStart");
  REQUIRE(exec_start);
  auto argv = split_words(*exec_start);
  REQUIRE(argv.size() >= 2);
  CHECK(argv[1] == "reconcile");
  argv[0] = tree.at(argv[0]).string();
  check_accepted(argv);
  // Enabled through its timer only.
  CHECK(service.sections.count("Install") == 0);

  UnitFile timer = installed_unit(tree, installed::k_reconcile_timer);
  CHECK(timer.value("Timer", "OnCalendar") == "*:0/15");
  CHECK(timer.value("Timer", "RandomizedDelaySec"));
  CHECK(timer.value("Timer", "Persistent") == "true");
  // No Unit=: the timer starts the service of its own name, installed beside it.
  CHECK(timer.values("Timer", "Unit").empty());
  CHECK(timer.value("Install", "WantedBy") == "timers.target");
}

TEST_CASE("units: systemd-analyze verify accepts the installed units", "[packaging]") {
  const std::string analyze = MXCTL_SYSTEMD_ANALYZE;
  if (analyze.empty()) {
    FAIL("systemd-analyze was not found when the build was configured: run scripts/install-deps "
         "(it installs the systemd package) and configure again");
  }
  InstalledTree tree;
  // systemd-analyze checks that ExecStart's binary exists, so the copies it
  // reads name the binary inside the DESTDIR; the man page it looks up for
  // Documentation= is found through MANPATH there too.
  testing_support::TempDir units;
  std::vector<std::string> argv = {analyze, "verify"};
  for (const std::string& path :
       {installed::k_service, installed::k_reconcile_service, installed::k_reconcile_timer}) {
    std::string text = tree.read(path);
    for (std::size_t at = text.find(installed::k_mxctl); at != std::string::npos;
         at = text.find(installed::k_mxctl, at + 1)) {
      std::string inside = tree.at(installed::k_mxctl).string();
      text.replace(at, installed::k_mxctl.size(), inside);
      at += inside.size() - 1;
    }
    argv.push_back(units.write(std::filesystem::path(path).filename().string(), text));
  }
  auto result = testing_support::run_process(
      argv, {{"MANPATH", tree.at(MXCTL_INSTALL_FULL_MANDIR).string()}, {"SYSTEMD_LOG_COLOR", "0"}});
  INFO("systemd-analyze verify: " << result.out << result.err);
  CHECK(result.exit_code == 0);
  // Unknown keys and bad values are warnings with exit 0: none may be printed.
  CHECK(result.out.empty());
  CHECK(result.err.empty());
}

}  // namespace units_test

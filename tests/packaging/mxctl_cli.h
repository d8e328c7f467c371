#pragma once
// What a built mxctl says it accepts, read from its --help, to check the
// command lines the packaged units and the cron example run.

#include <set>
#include <string>
#include <vector>

namespace packaging_test {

/// The subcommands `MXCTL --help` lists; fails the test case when it does not exit 0.
std::set<std::string> subcommands(const std::string& mxctl);

/// The long options (`--name`) `MXCTL SUBCOMMAND --help` lists.
std::set<std::string> options_of(const std::string& mxctl, const std::string& subcommand);

/// Every environment variable `MXCTL --help` and its subcommands' help name
/// (the `Env:NAME` of an option, and the MATRIX_* settings of the footer).
std::set<std::string> environment_variables(const std::string& mxctl);

/// Checks (with Catch2) that `argv` — mxctl's path, a subcommand and its
/// arguments, as a unit runs it — is a command line mxctl accepts: the
/// subcommand exists, every `--option` is one of its options, and the same
/// line plus `--help` exits 0. The last alone would not do: CLI11 lets
/// `--help` pass over an unknown option.
void check_accepted(const std::vector<std::string>& argv);

}  // namespace packaging_test

#pragma once
// The argv and envp arrays a child process is started with, prepared before
// fork/posix_spawn (nothing may be allocated between fork and exec). Shared by
// the test process runners and the bench; header-only, so the bench can use it
// without linking the Catch2 test support library.

#include <unistd.h>  // environ (g++ defines _GNU_SOURCE)

#include <map>
#include <string>
#include <vector>

namespace testing_support {

/// Owns the strings; `argv` and `envp` are null-terminated views into them,
/// valid as long as this object lives and is not copied.
class ExecArgs {
 public:
  /// `argv` as given; the environment is this process's with `env` laid
  /// over it. With `empty_unsets`, an empty value removes the variable
  /// instead of setting it to "".
  ExecArgs(std::vector<std::string> argv, const std::map<std::string, std::string>& env, bool empty_unsets = false)
      : m_args(std::move(argv)) {
    std::map<std::string, std::string> vars;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string text(*entry);
      if (auto eq = text.find('='); eq != std::string::npos) {
        vars[text.substr(0, eq)] = text.substr(eq + 1);
      }
    }
    for (const auto& [name, value] : env) {
      if (empty_unsets && value.empty()) {
        vars.erase(name);
      } else {
        vars[name] = value;
      }
    }
    for (const auto& [name, value] : vars) {
      m_env.push_back(name + "=" + value);
    }
    for (std::string& arg : m_args) {
      m_argv.push_back(arg.data());
    }
    m_argv.push_back(nullptr);
    for (std::string& entry : m_env) {
      m_envp.push_back(entry.data());
    }
    m_envp.push_back(nullptr);
  }
  ExecArgs(const ExecArgs&) = delete;
  ExecArgs& operator=(const ExecArgs&) = delete;

  char* const* argv() const { return m_argv.data(); }
  char* const* envp() const { return m_envp.data(); }
  /// The program to run (argv[0]).
  const char* program() const { return m_argv[0]; }

 private:
  std::vector<std::string> m_args;
  std::vector<std::string> m_env;
  std::vector<char*> m_argv;
  std::vector<char*> m_envp;
};

}  // namespace testing_support

#include "controller/saved_plan.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "adapters/redact.h"
#include "controller/render_plan.h"
#include "controller/state_json.h"

namespace controller {

namespace {

constexpr const char* k_kind = "mxctl-saved-plan";

// FNV-1a, 64 bit: enough to notice a change, not a security boundary (a
// saved plan is trusted input from the same operator).
std::string fnv1a_hex(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(hash));
  return buffer;
}

// Writes `text` to a new file `path` made with mode 0600: a saved plan names
// the homeserver's rooms and people, and is nobody else's to read. A file
// left there by an earlier attempt is replaced, not reused with its mode.
model::Result<void> write_private_file(const std::string& path, const std::string& text) {
  auto failed = [&](int error) {
    return model::fail(model::Error::Kind::invalid, "cannot write saved plan " + path + ": " + std::strerror(error));
  };
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return failed(errno);
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return failed(errno);
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) {
      continue;
    }
    if (wrote < 0) {
      const int error = errno;
      ::close(fd);
      return failed(error);
    }
    done += static_cast<std::size_t>(wrote);
  }
  if (::close(fd) != 0) {
    return failed(errno);
  }
  return {};
}

}  // namespace

std::string digest(const model::MatrixState& desired) { return fnv1a_hex(state_json(desired).dump()); }

model::Result<void> write_saved_plan(const std::string& path, const SavedPlan& saved) {
  nlohmann::json out = {
      {"kind", k_kind},
      {"format_version", "1"},
      {"paths", saved.paths},
      {"desired_digest", saved.desired_digest},
      {"plan", nlohmann::json::parse(saved.plan_json)},
  };
  // Only when there is one, so plans from manifests stay as they were. Never
  // the password (the file may be attached to a review); what is left still
  // connects with PGPASSWORD or ~/.pgpass.
  if (!saved.from_db.empty()) {
    out["from_db"] = adapters::strip_database_password(saved.from_db);
  }
  if (saved.now) {
    out["now"] = *saved.now;
  }
  const std::string temp = path + ".tmp";
  if (auto written = write_private_file(temp, out.dump(2) + "\n"); !written) {
    return written;
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temp.c_str());
    return model::fail(model::Error::Kind::invalid, "cannot write saved plan " + path + ": " + std::strerror(error));
  }
  return {};
}

model::Result<SavedPlan> read_saved_plan(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return model::fail(model::Error::Kind::not_found, "cannot read saved plan " + path);
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  nlohmann::json in = nlohmann::json::parse(buffer.str(), nullptr, false);
  if (!in.is_object() || in.value("kind", "") != k_kind) {
    return model::fail(model::Error::Kind::invalid, path + " is not an mxctl saved plan");
  }
  if (in.value("format_version", "") != "1") {
    return model::fail(model::Error::Kind::invalid,
                       path + " has saved plan format " + in.value("format_version", "?") + "; this mxctl reads 1");
  }
  SavedPlan saved;
  try {
    saved.paths = in.at("paths").get<std::vector<std::string>>();
    saved.desired_digest = in.at("desired_digest").get<std::string>();
    saved.plan_json = in.at("plan").dump(2) + "\n";
    saved.from_db = in.value("from_db", "");
    if (in.contains("now")) {
      saved.now = in.at("now").get<std::int64_t>();
    }
  } catch (const nlohmann::json::exception& e) {
    return model::fail(model::Error::Kind::invalid, path + " is not a valid saved plan: " + e.what());
  }
  return saved;
}

model::Result<std::string> database_of(const SavedPlan& saved, const std::string& given) {
  if (given.empty()) {
    return saved.from_db;
  }
  if (adapters::strip_database_password(given) != adapters::strip_database_password(saved.from_db)) {
    return model::fail(model::Error::Kind::invalid,
                       "--from-db " + adapters::redact_database_uri(given) + " is not the database the saved plan was made from (" +
                           (saved.from_db.empty() ? std::string("none") : saved.from_db) + ")");
  }
  return given;
}

model::Result<void> check_not_stale(const SavedPlan& saved, const std::string& desired_digest,
                                    const model::Plan& fresh) {
  if (desired_digest != saved.desired_digest) {
    return model::fail(model::Error::Kind::conflict,
                       "saved plan is stale: the manifests changed since it was made; run plan again");
  }
  // Warnings are notes about the pass, not changes: a plan made from a reset
  // store warns of it, and the apply after it finds the store rebuilt.
  auto changes_of = [](const std::string& plan_json) {
    nlohmann::json plan = nlohmann::json::parse(plan_json);
    plan.erase("warnings");
    return plan;
  };
  if (changes_of(render_plan_json(fresh)) != changes_of(saved.plan_json)) {
    return model::fail(model::Error::Kind::conflict,
                       "saved plan is stale: the homeserver changed since it was made; run plan again");
  }
  return {};
}

}  // namespace controller

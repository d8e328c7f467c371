#include "adapters/manifests/manifest_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace adapters {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t k_events =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

model::Error watch_error(const std::string& path, const std::string& why) {
  return model::make_error(model::Error::Kind::invalid, "cannot watch " + path + " for changes: " + why);
}

}  // namespace

model::Result<std::unique_ptr<ManifestWatch>> ManifestWatch::start(const std::vector<std::string>& paths,
                                                                   std::function<void()> on_change) {
  const int inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify < 0) {
    return tl::unexpected(watch_error("the manifests", std::strerror(errno)));
  }
  const int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    const int saved = errno;
    ::close(inotify);
    return tl::unexpected(watch_error("the manifests", std::strerror(saved)));
  }
  std::unique_ptr<ManifestWatch> watch(new ManifestWatch(inotify, wake, std::move(on_change)));
  for (const std::string& path : paths) {
    std::error_code error;
    const fs::path absolute = fs::absolute(path, error);
    if (error) {
      return tl::unexpected(watch_error(path, error.message()));
    }
    if (fs::is_directory(absolute, error)) {
      if (auto added = watch->add_directory_tree(absolute.string()); !added) {
        return tl::unexpected(added.error());
      }
    } else {
      watch->m_files.insert(absolute.lexically_normal().string());
      if (auto added = watch->add(absolute.parent_path().string(), false); !added) {
        return tl::unexpected(added.error());
      }
    }
  }
  watch->m_thread = std::thread([raw = watch.get()] { raw->run(); });
  return watch;
}

ManifestWatch::ManifestWatch(int inotify, int wake, std::function<void()> on_change)
    : m_inotify(inotify), m_wake(wake), m_on_change(std::move(on_change)) {}

ManifestWatch::~ManifestWatch() {
  if (m_thread.joinable()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(m_wake, &one, sizeof one);
    m_thread.join();
  }
  ::close(m_inotify);
  ::close(m_wake);
}

model::Result<void> ManifestWatch::add(const std::string& directory, bool whole_tree) {
  const int descriptor = inotify_add_watch(m_inotify, directory.c_str(), k_events);
  if (descriptor < 0) {
    return tl::unexpected(watch_error(directory, std::strerror(errno)));
  }
  auto& entry = m_directories[descriptor];
  entry.first = directory;
  entry.second = entry.second || whole_tree;
  return {};
}

model::Result<void> ManifestWatch::add_directory_tree(const std::string& directory) {
  if (auto added = add(directory, true); !added) {
    return added;
  }
  std::error_code error;
  fs::recursive_directory_iterator it(directory, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_directory(error)) {
      if (auto added = add(it->path().string(), true); !added) {
        return added;
      }
    }
  }
  if (error) {
    return tl::unexpected(watch_error(directory, error.message()));
  }
  return {};
}

bool ManifestWatch::relevant(const char* buffer, std::size_t length) {
  bool any = false;
  for (std::size_t offset = 0; offset + sizeof(inotify_event) <= length;) {
    inotify_event event;
    std::memcpy(&event, buffer + offset, sizeof event);
    const char* name = buffer + offset + sizeof(inotify_event);
    offset += sizeof(inotify_event) + event.len;
    if (event.mask & IN_Q_OVERFLOW) {
      any = true;  // events were lost: assume the worst
      continue;
    }
    auto directory = m_directories.find(event.wd);
    if (directory == m_directories.end()) {
      continue;
    }
    const auto& [path, whole_tree] = directory->second;
    const std::string full = event.len > 0 ? (fs::path(path) / name).string() : path;
    if (whole_tree) {
      any = true;
      // A directory made (or moved in) below a watched one is watched too.
      if ((event.mask & IN_ISDIR) && (event.mask & (IN_CREATE | IN_MOVED_TO))) {
        (void)add_directory_tree(full);
      }
    } else if (m_files.count(full)) {
      any = true;
    }
  }
  return any;
}

void ManifestWatch::run() {
  // Aligned as inotify(7) asks.
  alignas(inotify_event) char buffer[16 * 1024];
  pollfd fds[2] = {{m_inotify, POLLIN, 0}, {m_wake, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    bool changed = false;
    for (;;) {
      const ssize_t got = ::read(m_inotify, buffer, sizeof buffer);
      if (got <= 0) {
        break;
      }
      changed = relevant(buffer, static_cast<std::size_t>(got)) || changed;
    }
    if (changed) {
      m_on_change();
    }
  }
}

}  // namespace adapters

#pragma once
// Notices edits to manifests with inotify, for a long-running controller
// that re-reads them. A file named directly is watched through its
// directory, so that an editor's save (write a new file, rename it over
// the old one) is seen; a directory is watched with every directory below
// it, as the loader reads them, and directories made later are added.

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model/result.h"

namespace adapters {

/// Watches manifest paths from a thread of its own until destroyed.
class ManifestWatch {
 public:
  /// Starts watching `paths` (files or directories, as given to mxctl);
  /// `on_change` is called from the watch's thread after any file among
  /// them (or any directory below a watched one) is written, made, moved
  /// or removed. Fails naming the path that cannot be watched.
  static model::Result<std::unique_ptr<ManifestWatch>> start(const std::vector<std::string>& paths,
                                                             std::function<void()> on_change);
  /// Stops the thread and closes the watch.
  ~ManifestWatch();
  ManifestWatch(const ManifestWatch&) = delete;
  ManifestWatch& operator=(const ManifestWatch&) = delete;

 private:
  ManifestWatch(int inotify, int wake, std::function<void()> on_change);
  model::Result<void> add_directory_tree(const std::string& directory);
  model::Result<void> add(const std::string& directory, bool whole_tree);
  void run();
  // True when the events in `buffer` concern what is watched.
  bool relevant(const char* buffer, std::size_t length);

  int m_inotify;
  int m_wake;  // an eventfd: written to stop the thread
  std::function<void()> m_on_change;
  /// Watch descriptor → directory, and whether everything in it counts
  /// (a directory given or found below one) or only `m_files` in it.
  std::map<int, std::pair<std::string, bool>> m_directories;
  std::set<std::string> m_files;  ///< files named directly, as full paths
  std::thread m_thread;
};

}  // namespace adapters

#pragma once

#include <filesystem>
#include <string>

namespace testing_support {

/// A fresh directory under the system temp dir, removed with everything in it
/// when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  /// A fresh directory under `base` instead (say /dev/shm, for a server whose
  /// database should not wait on a disk).
  explicit TempDir(const std::filesystem::path& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }

  /// Writes `content` to `relative` (creating parent directories); returns the full path.
  std::string write(const std::string& relative, const std::string& content) const;

 private:
  std::filesystem::path m_path;
};

}  // namespace testing_support

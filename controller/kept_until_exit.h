#pragma once
// A one-shot command's plan holds the desired and the observed state: at
// instance scale half a million small allocations, and freeing them one by
// one took a seventh of a converged pass. The process is about to end and
// the kernel takes the memory back at once, so the command leaves it.

#include <memory>
#include <utility>

namespace controller {

/// Keeps `value` alive until the process ends, in place of the value kept
/// before (destroyed now, so repeated commands in one process do not pile
/// up). The memory stays reachable: leak checkers do not report it.
void keep_until_exit(std::shared_ptr<void> value);

/// Owns a value like a unique_ptr; when it goes out of scope the value is
/// handed to keep_until_exit() instead of being destroyed.
template <typename T>
class KeptUntilExit {
 public:
  explicit KeptUntilExit(T value) : m_value(std::make_shared<T>(std::move(value))) {}
  KeptUntilExit(const KeptUntilExit&) = delete;
  KeptUntilExit& operator=(const KeptUntilExit&) = delete;
  ~KeptUntilExit() { keep_until_exit(std::move(m_value)); }

  T& operator*() { return *m_value; }
  const T& operator*() const { return *m_value; }
  T* operator->() { return m_value.get(); }
  const T* operator->() const { return m_value.get(); }

 private:
  std::shared_ptr<T> m_value;
};

}  // namespace controller

#pragma once
// Signals for a long-running process, taken on a thread of their own with
// sigwait instead of in a handler, so that what they start (stopping,
// reloading) may lock and log like any other code.

#include <atomic>
#include <functional>
#include <thread>

namespace controller {

/// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread, which every
/// thread started after it inherits, and calls `on_stop` (SIGTERM, SIGINT)
/// or `on_reload` (SIGHUP) from its own thread as they arrive. Construct
/// it before any other thread starts. The signals stay blocked after it is
/// gone: one arriving while the process exits must not kill it.
class SignalListener {
 public:
  SignalListener(std::function<void()> on_stop, std::function<void()> on_reload);
  ~SignalListener();
  SignalListener(const SignalListener&) = delete;
  SignalListener& operator=(const SignalListener&) = delete;

 private:
  void run();

  std::function<void()> m_on_stop;
  std::function<void()> m_on_reload;
  std::atomic<bool> m_done{false};
  std::thread m_thread;
};

}  // namespace controller

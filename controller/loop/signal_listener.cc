#include "controller/loop/signal_listener.h"

#include <pthread.h>
#include <signal.h>

#include <utility>

namespace controller {

namespace {

// SIGUSR2 wakes the listener to end it.
sigset_t listened() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

SignalListener::SignalListener(std::function<void()> on_stop, std::function<void()> on_reload)
    : m_on_stop(std::move(on_stop)), m_on_reload(std::move(on_reload)) {
  const sigset_t set = listened();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  m_thread = std::thread([this] { run(); });
}

SignalListener::~SignalListener() {
  m_done = true;
  pthread_kill(m_thread.native_handle(), SIGUSR2);
  m_thread.join();
}

void SignalListener::run() {
  const sigset_t set = listened();
  for (;;) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) {
      continue;
    }
    if (signal == SIGUSR2) {
      if (m_done) {
        return;
      }
    } else if (signal == SIGHUP) {
      m_on_reload();
    } else {
      m_on_stop();
    }
  }
}

}  // namespace controller

#include "controller/loop/control_loop.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "controller/saved_plan.h"

namespace controller {

namespace {

using SteadyClock = std::chrono::steady_clock;

// A deadline that never comes (not std::optional: GCC 12 warns falsely
// that an optional time_point may be used uninitialized).
constexpr SteadyClock::time_point k_never = SteadyClock::time_point::max();

}  // namespace

const char* to_string(PassReason reason) {
  switch (reason) {
    case PassReason::start: return "start";
    case PassReason::homeserver_changed: return "homeserver_changed";
    case PassReason::desired_changed: return "desired_changed";
    case PassReason::resync: return "resync";
    case PassReason::retry: return "retry";
  }
  return "unknown";
}

ControlLoop::ControlLoop(LoopHost& host, adapters::ChangeFeed* feed, LoopOptions options)
    : m_host(host), m_feed(feed), m_options(options) {}

void ControlLoop::request_stop() {
  if (m_stopping.exchange(true)) {
    // Asked twice (a second Ctrl-C): no more waiting for the pass.
    m_host.cancel_requests();
    return;
  }
  m_host.stopping();
  m_events.post_stop();
  {
    // Orders the flag with the grace timer's check of it.
    std::lock_guard<std::mutex> lock(m_grace_mutex);
  }
  m_grace_changed.notify_all();
}

void ControlLoop::run_grace_timer() {
  std::unique_lock<std::mutex> lock(m_grace_mutex);
  m_grace_changed.wait(lock, [&] { return m_finished || m_stopping.load(); });
  if (m_finished) {
    return;
  }
  if (!m_grace_changed.wait_for(lock, m_options.shutdown_grace, [&] { return m_finished || !m_pass_running; })) {
    m_host.grace_expired();
    m_host.cancel_requests();
  }
}

void ControlLoop::pass(PassReason reason, bool full, std::set<std::string> rooms) {
  PassRequest request{reason, full, std::move(rooms), &m_stopping};
  {
    std::lock_guard<std::mutex> lock(m_grace_mutex);
    m_pass_running = true;
  }
  m_host.pass_started(request);
  const auto started = SteadyClock::now();
  PassOutcome outcome = m_host.run_pass(m_desired, request);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
  {
    std::lock_guard<std::mutex> lock(m_grace_mutex);
    m_pass_running = false;
  }
  m_grace_changed.notify_all();
  m_host.pass_finished(request, outcome, took);
  if ((outcome.applied && outcome.applied->lock_lost) || m_host.lock_lost()) {
    m_lock_lost = true;
    return;
  }
  // A pass that failed to observe or to carry everything out is tried
  // again, backing off; held-back and erroneous changes are not failures
  // a retry could fix, and the next news or resync brings them back.
  const bool failed = outcome.error || (outcome.applied && (outcome.applied->error || outcome.applied->lock_lost ||
                                                            (outcome.applied->report && !outcome.applied->report->ok())));
  if (failed && !m_stopping) {
    m_retry_backoff = m_retry_backoff.count() == 0 ? m_options.retry_min
                                                    : std::min(m_retry_backoff * 2, m_options.retry_max);
    m_retry_at = SteadyClock::now() + m_retry_backoff;
  } else {
    m_retry_backoff = std::chrono::milliseconds(0);
    m_retry_at = k_never;
  }
  if (full && !outcome.error) {
    m_next_resync = SteadyClock::now() + m_options.resync_interval;
  } else if (reason == PassReason::resync) {
    // Still due, but tried again after the backoff, not at once and over
    // again (each one reads the sources in full too).
    m_next_resync = m_retry_at;
  }
  if (m_watcher) {
    m_watcher->arm(m_host.sync_position());
  }
}

bool ControlLoop::load_sources(std::string fingerprint) {
  auto loaded = m_host.load_desired();
  if (!loaded) {
    m_loaded_fingerprint.clear();
    m_host.desired_rejected(loaded.error());
    return false;
  }
  m_loaded_fingerprint = std::move(fingerprint);
  std::string fresh = digest(*loaded);
  const bool changed = fresh != m_desired_digest;
  m_host.desired_loaded(changed);
  if (changed) {
    m_desired = std::move(*loaded);
    m_desired_digest = std::move(fresh);
  }
  return changed;
}

int ControlLoop::run() {
  std::thread grace([this] { run_grace_timer(); });
  struct Finish {
    ControlLoop& loop;
    std::thread& grace;
    ~Finish() {
      {
        std::lock_guard<std::mutex> lock(loop.m_grace_mutex);
        loop.m_finished = true;
      }
      loop.m_grace_changed.notify_all();
      grace.join();
      if (loop.m_watcher) {
        loop.m_watcher->stop();
      }
    }
  } finish{*this, grace};

  m_loaded_fingerprint = m_host.source_fingerprint();
  auto loaded = m_host.load_desired();
  if (!loaded) {
    m_host.desired_rejected(loaded.error());
    return 1;
  }
  m_desired = std::move(*loaded);
  m_desired_digest = digest(m_desired);
  if (m_feed != nullptr) {
    m_watcher.emplace(
        *m_feed, m_events, m_options.feed, [this](const model::Error& error) { m_host.feed_failed(error); },
        [this] { m_host.feed_answered(); });
  }
  auto now = SteadyClock::now();
  m_next_resync = now + m_options.resync_interval;
  auto next_source_poll = now + m_options.source_interval;
  SteadyClock::time_point source_due = k_never;
  if (!m_stopping) {
    pass(PassReason::start, true, {});
  }
  while (!m_stopping && !m_lock_lost) {
    auto wake = m_next_resync;
    if (m_options.source_interval.count() > 0) {
      wake = std::min(wake, next_source_poll);
    }
    wake = std::min({wake, source_due, m_retry_at});
    LoopNews news = m_events.wait_until(wake);
    if (news.stop || m_stopping || m_host.lock_lost()) {
      m_lock_lost = m_lock_lost || m_host.lock_lost();
      break;
    }
    now = SteadyClock::now();
    if (news.reload) {
      if (auto reloaded = m_host.reload_settings(); !reloaded) {
        m_host.reload_failed(reloaded.error());
      }
      source_due = now;  // the config may change how the sources compile
    }
    if (news.source_changed) {
      source_due = now + m_options.debounce;
    }
    // A pass reads everything that changed since the stored token, so one
    // pass answers all the news it was run for.
    const bool announced = now >= source_due;
    const bool poll_due = m_options.source_interval.count() > 0 && now >= next_source_poll;
    const bool resync_due = now >= m_next_resync;
    bool changed = false;
    if (announced || poll_due || resync_due) {
      next_source_poll = now + m_options.source_interval;
      std::string fingerprint = m_host.source_fingerprint();
      // Only the poll trusts the fingerprint: news, SIGHUP and the resync
      // read in full, so a change it missed waits one resync at most. A
      // load answers the news still being debounced too; a skip does not.
      if (announced || resync_due || fingerprint.empty() || fingerprint != m_loaded_fingerprint) {
        source_due = k_never;
        changed = load_sources(std::move(fingerprint));
      }
      now = SteadyClock::now();
    }
    if (m_stopping || m_lock_lost) {
      break;
    }
    if (resync_due || now >= m_next_resync) {
      pass(PassReason::resync, true, {});
    } else if (changed) {
      pass(PassReason::desired_changed, false, {});
    } else if (news.homeserver_changed) {
      pass(PassReason::homeserver_changed, false, std::move(news.rooms_changed));
    } else if (now >= m_retry_at) {
      pass(PassReason::retry, false, {});
    }
  }
  return m_lock_lost ? 1 : 0;
}

}  // namespace controller

#pragma once
// Deadlines for HTTP requests. cpp-httplib bounds each read of a socket (its
// read timeout) but not a request: a server that sends a byte every few
// seconds keeps a request going for ever. The watchdog's thread shuts the
// socket of a request that outlives its deadline down
// (httplib::Client::stop, the one call httplib allows from another thread
// during a request), and the request fails at once.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

namespace httplib {
class Client;
}

namespace adapters {

/// Stops the requests that outlive their deadlines, from one thread of its own.
class RequestWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  RequestWatchdog() = default;
  /// Joins the thread; no Watch may outlive the watchdog.
  ~RequestWatchdog();
  RequestWatchdog(const RequestWatchdog&) = delete;
  RequestWatchdog& operator=(const RequestWatchdog&) = delete;

  /// One request being watched, until end() or destruction.
  class Watch {
   public:
    Watch(RequestWatchdog& owner, std::uint64_t id) : m_owner(&owner), m_id(id) {}
    Watch(Watch&& other) noexcept : m_owner(other.m_owner), m_id(other.m_id) { other.m_owner = nullptr; }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    Watch& operator=(Watch&&) = delete;
    ~Watch() { end(); }
    /// Stops watching; true when the deadline passed and the client was
    /// stopped (its connection must not be reused). Later calls: false.
    bool end();

   private:
    RequestWatchdog* m_owner;
    std::uint64_t m_id;
  };

  /// Stops `client` once `deadline` passes, unless the Watch ends first.
  /// `client` must outlive the Watch. The thread starts with the first watch.
  Watch watch(httplib::Client& client, Clock::time_point deadline);

  /// Stops every request being watched now, and every later one as soon as
  /// it is watched: for a client being shut down (a long-poll cut short).
  void cancel_all();

 private:
  struct Entry {
    Clock::time_point deadline;
    httplib::Client* client;
    bool fired = false;
  };

  void run();
  bool end(std::uint64_t id);

  // One lock for the entries; held while a client is stopped, so that a
  // request cannot end (and its client be freed) in the middle of it.
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::map<std::uint64_t, Entry> m_entries;
  std::uint64_t m_next_id = 0;
  bool m_stopping = false;
  bool m_cancelled = false;
  std::thread m_thread;
};

}  // namespace adapters

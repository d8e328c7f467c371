#include "mxsim/appservice_client.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include "mxsim/request.h"

namespace mxsim {

namespace {

/// Splits "http://host:port/prefix" into "http://host:port" and "/prefix".
std::pair<std::string, std::string> split_url(const std::string& url) {
  size_t scheme = url.find("://");
  size_t path_start = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path_start == std::string::npos) {
    return {url, ""};
  }
  std::string prefix = url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') {
    prefix.pop_back();
  }
  return {url.substr(0, path_start), prefix};
}

// Synapse 1.67 (synapse/appservice/api.py) calls the legacy unprefixed
// routes, `url + "/users/{userId}"` and the like, with the hs_token as the
// `access_token` query parameter and no Authorization header.
std::string with_token(const std::string& path, const std::string& token) {
  return path + "?access_token=" + percent_encode(token);
}

bool query(const AppService& service, const std::string& path) {
  if (service.url.empty()) {
    return false;
  }
  auto [base, prefix] = split_url(service.url);
  httplib::Client client(base);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  auto result = client.Get(with_token(prefix + path, service.hs_token).c_str());
  return result && result->status == 200;
}

}  // namespace

AppServiceClient::~AppServiceClient() { stop(); }

void AppServiceClient::set_txn_allocator(std::function<uint64_t()> allocate) {
  std::lock_guard lock(m_mutex);
  m_allocate = std::move(allocate);
}

void AppServiceClient::enqueue(const AppService& service, nlohmann::json event) {
  std::lock_guard lock(m_mutex);
  if (m_stopping) {
    return;
  }
  Queue& queue = m_queues[service.id];
  queue.url = service.url;
  queue.hs_token = service.hs_token;
  queue.events.push_back(std::move(event));
  if (!m_thread.joinable()) {
    m_thread = std::thread([this] { run(); });
  }
  m_wake.notify_all();
}

bool AppServiceClient::query_user(const AppService& service, const std::string& user_id) {
  return query(service, "/users/" + percent_encode(user_id));
}

bool AppServiceClient::query_alias(const AppService& service, const std::string& alias) {
  return query(service, "/rooms/" + percent_encode(alias));
}

bool AppServiceClient::flush(int64_t timeout_ms) {
  std::unique_lock lock(m_mutex);
  return m_idle.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    if (m_busy) {
      return false;
    }
    return std::all_of(m_queues.begin(), m_queues.end(),
                       [](const auto& item) { return item.second.events.empty() && item.second.in_flight.empty(); });
  });
}

uint64_t AppServiceClient::transactions_sent() const {
  std::lock_guard lock(m_mutex);
  return m_sent;
}

void AppServiceClient::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    m_wake.notify_all();
  }
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

bool AppServiceClient::send_transaction(const Queue& queue) {
  auto [base, prefix] = split_url(queue.url);
  httplib::Client client(base);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  nlohmann::json body = {{"events", queue.in_flight}};
  std::string path = with_token(prefix + "/transactions/" + std::to_string(queue.txn), queue.hs_token);
  auto result = client.Put(path.c_str(), body.dump(), "application/json");
  return result && result->status == 200;
}

void AppServiceClient::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    // Pick one service with a transaction to send or events to start one.
    std::string ready_id;
    for (auto& [id, queue] : m_queues) {
      if (!queue.in_flight.empty() || !queue.events.empty()) {
        ready_id = id;
        break;
      }
    }
    if (ready_id.empty()) {
      m_idle.notify_all();
      m_wake.wait(lock);
      continue;
    }
    m_busy = true;
    if (m_queues[ready_id].in_flight.empty()) {
      Queue& queue = m_queues[ready_id];
      queue.in_flight = std::move(queue.events);
      queue.events.clear();
      queue.txn = 0;
    }
    if (m_queues[ready_id].txn == 0) {
      // The allocator takes the homeserver's lock, which enqueue() is
      // called under: never while holding this one.
      std::function<uint64_t()> allocate = m_allocate;
      lock.unlock();
      const uint64_t txn = allocate ? allocate() : 0;
      lock.lock();
      m_queues[ready_id].txn = allocate ? txn : ++m_last_txn;
    }
    Queue snapshot = m_queues[ready_id];
    lock.unlock();
    bool ok = send_transaction(snapshot);
    lock.lock();
    m_busy = false;
    Queue& queue = m_queues[ready_id];
    if (ok) {
      queue.in_flight.clear();
      queue.txn = 0;
      queue.failures = 0;
      ++m_sent;
    } else {
      ++queue.failures;
      auto backoff = std::chrono::milliseconds(std::min(5000, 100 << std::min(queue.failures, 6)));
      m_wake.wait_for(lock, backoff, [&] { return m_stopping; });
    }
  }
  m_idle.notify_all();
}

}  // namespace mxsim

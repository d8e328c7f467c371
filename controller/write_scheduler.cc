#include "controller/write_scheduler.h"

namespace controller {

WriteScheduler::WriteScheduler(std::size_t count) : m_claims(count) {}

std::uint32_t WriteScheduler::room_id(const std::string& key) {
  auto [it, added] = m_room_ids.try_emplace(key, static_cast<std::uint32_t>(m_rooms.size()));
  if (added) {
    m_rooms.emplace_back();
  }
  return it->second;
}

std::uint32_t WriteScheduler::server_id(const std::string& name) {
  auto [it, added] = m_server_ids.try_emplace(name, static_cast<std::uint32_t>(m_servers.size()));
  if (added) {
    m_servers.emplace_back();
  }
  return it->second;
}

void WriteScheduler::set_claims(std::size_t index, const std::vector<std::string>& rooms, const std::string& server) {
  Claim& claim = m_claims.at(index);
  claim.rooms.clear();
  for (const std::string& key : rooms) {
    claim.rooms.push_back(room_id(key));
  }
  claim.server = server.empty() ? k_none : server_id(server);
}

void WriteScheduler::ready(std::size_t index) { place(index); }

bool WriteScheduler::place(std::size_t index) {
  const Claim& claim = m_claims[index];
  // Operations on several rooms (rare) are checked only when taken.
  if (claim.rooms.size() != 1) {
    m_candidates.insert(index);
    return true;
  }
  Room& room = m_rooms[claim.rooms.front()];
  if (room.busy) {
    room.waiting.insert(index);
    return false;
  }
  if (room.candidate != k_no_candidate) {
    if (room.candidate < index) {
      room.waiting.insert(index);
      return false;
    }
    // The lower index goes first; the former candidate waits behind it.
    m_candidates.erase(room.candidate);
    room.waiting.insert(room.candidate);
  }
  room.candidate = index;
  m_candidates.insert(index);
  return true;
}

std::optional<std::size_t> WriteScheduler::take() {
  // Candidates found blocked are parked where they wait, each costing one
  // set move; they come back when what blocked them is released.
  while (!m_candidates.empty()) {
    const std::size_t index = *m_candidates.begin();
    m_candidates.erase(m_candidates.begin());
    Claim& claim = m_claims[index];
    for (std::uint32_t room : claim.rooms) {
      if (m_rooms[room].candidate == index) {
        m_rooms[room].candidate = k_no_candidate;
      }
    }
    bool parked = false;
    for (std::uint32_t room : claim.rooms) {
      if (m_rooms[room].busy) {
        m_rooms[room].waiting.insert(index);
        parked = true;
        break;
      }
    }
    if (!parked && claim.server != k_none && m_servers[claim.server].gate == Gate::probing) {
      m_servers[claim.server].waiting.insert(index);
      parked = true;
    }
    if (parked) {
      wake_free(claim);
      continue;
    }
    for (std::uint32_t room : claim.rooms) {
      m_rooms[room].busy = true;
    }
    if (claim.server != k_none && m_servers[claim.server].gate == Gate::closed) {
      m_servers[claim.server].gate = Gate::probing;
      claim.probing = true;
    }
    return index;
  }
  return std::nullopt;
}

void WriteScheduler::release(std::size_t index) {
  Claim& claim = m_claims.at(index);
  for (std::uint32_t room : claim.rooms) {
    m_rooms[room].busy = false;
    wake_room(room);
  }
  if (claim.probing) {
    claim.probing = false;
    Server& server = m_servers[claim.server];
    if (server.gate == Gate::probing) {
      server.gate = Gate::closed;
      wake_server(claim.server);
    }
  }
}

void WriteScheduler::open(const std::string& name) {
  auto it = m_server_ids.find(name);
  if (it == m_server_ids.end()) {
    return;
  }
  Server& server = m_servers[it->second];
  server.gate = Gate::open;
  // Each waiter moves once: an open server never parks anything again.
  std::set<std::size_t> waiting = std::move(server.waiting);
  server.waiting.clear();
  for (std::size_t index : waiting) {
    place(index);
  }
}

void WriteScheduler::wake_free(const Claim& claim) {
  for (std::uint32_t room : claim.rooms) {
    wake_room(room);
  }
  if (claim.server != k_none && m_servers[claim.server].gate == Gate::closed) {
    wake_server(claim.server);
  }
}

// One waiter at a time: once it runs the room is busy again, so waking the
// others now would only park them again.
void WriteScheduler::wake_room(std::uint32_t id) {
  Room& room = m_rooms[id];
  if (!room.busy && room.candidate == k_no_candidate && !room.waiting.empty()) {
    const std::size_t index = *room.waiting.begin();
    room.waiting.erase(room.waiting.begin());
    if (m_claims[index].rooms.size() == 1) {
      room.candidate = index;
    }
    m_candidates.insert(index);
  }
}

// The lowest waiter that may run becomes the next probe when it is taken;
// those whose room is busy go to wait for their room on the way.
void WriteScheduler::wake_server(std::uint32_t id) {
  Server& server = m_servers[id];
  while (server.gate == Gate::closed && !server.waiting.empty()) {
    const std::size_t index = *server.waiting.begin();
    server.waiting.erase(server.waiting.begin());
    if (place(index)) {
      return;
    }
  }
}

}  // namespace controller

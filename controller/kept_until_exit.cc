#include "controller/kept_until_exit.h"

#include <mutex>

namespace controller {

void keep_until_exit(std::shared_ptr<void> value) {
  static std::mutex guard;
  // Never destroyed: static destructors run before the process ends.
  static auto* kept = new std::shared_ptr<void>();
  std::shared_ptr<void> previous;
  {
    std::lock_guard<std::mutex> lock(guard);
    previous = std::exchange(*kept, std::move(value));
  }
}

}  // namespace controller

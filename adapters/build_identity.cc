#include "adapters/build_identity.h"

#include <elf.h>
#include <link.h>

#include <string_view>

#include "adapters/sha256.h"

namespace adapters {

namespace {

// Appends the GNU build id among the notes of one loaded object, if any.
void append_build_id(const dl_phdr_info& object, std::string& out) {
  for (ElfW(Half) i = 0; i < object.dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = object.dlpi_phdr[i];
    if (segment.p_type != PT_NOTE) {
      continue;
    }
    const auto* at = reinterpret_cast<const unsigned char*>(object.dlpi_addr + segment.p_vaddr);
    const unsigned char* end = at + segment.p_memsz;
    while (at + sizeof(ElfW(Nhdr)) <= end) {
      const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(at);
      const unsigned char* name = at + sizeof(ElfW(Nhdr));
      const unsigned char* desc = name + ((note->n_namesz + 3) & ~3u);
      const unsigned char* next = desc + ((note->n_descsz + 3) & ~3u);
      if (next > end) {
        break;
      }
      const std::string_view owner(reinterpret_cast<const char*>(name), note->n_namesz);
      if (note->n_type == NT_GNU_BUILD_ID && owner == std::string_view("GNU\0", 4)) {
        out += lower_hex(std::string_view(reinterpret_cast<const char*>(desc), note->n_descsz)) + ' ';
        return;
      }
      at = next;
    }
  }
}

std::string read_build_identity() {
  struct Found {
    std::string ids;
    bool first = true;
    bool program_has_one = false;
  } found;
  dl_iterate_phdr(
      [](dl_phdr_info* object, std::size_t, void* data) {
        auto& into = *static_cast<Found*>(data);
        const std::size_t before = into.ids.size();
        append_build_id(*object, into.ids);
        if (into.first) {
          into.program_has_one = into.ids.size() > before;  // the program itself comes first
          into.first = false;
        }
        return 0;
      },
      &found);
  return found.program_has_one ? found.ids : std::string();
}

}  // namespace

std::string build_identity() {
  static const std::string identity = read_build_identity();
  return identity;
}

namespace {

// Asked while the program starts, when the objects loaded are the program
// and the libraries it was linked with: one loaded later (an NSS module for
// a DNS lookup) must not make one run's identity differ from another's.
[[maybe_unused]] const bool k_identity_read_at_start = (build_identity(), true);

}  // namespace

}  // namespace adapters

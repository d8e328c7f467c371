#include "controller/desired_cache.h"

#include <elf.h>
#include <link.h>

#include <utility>

#include "adapters/sha256.h"
#include "model/byte_codec.h"
#include "model/state_codec.h"

namespace controller {

namespace {

// Bumped when what goes into the digest changes shape.
constexpr std::string_view k_digest_tag = "mxctl.desired-digest.1";

// Appends the GNU build id among the notes of one loaded object, if any.
void append_build_id(const dl_phdr_info& object, std::string& out) {
  static const char* k_hex = "0123456789abcdef";
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
      if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && std::string_view(reinterpret_cast<const char*>(name), 4) == std::string_view("GNU\0", 4)) {
        for (ElfW(Word) b = 0; b < note->n_descsz; ++b) {
          out += k_hex[desc[b] >> 4];
          out += k_hex[desc[b] & 0xf];
        }
        out += ' ';
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

// Every setting, taken apart with a structured binding so that a setting
// added to model::Settings fails to compile here until it is digested.
void put_settings(model::ByteWriter& out, const model::Settings& settings) {
  const auto& [homeserver_url, server_name, bot_user_id, alias_prefix, marker_event_type, instance,
               grace_period_days, mass_change_max_percent, mass_change_max_count, deactivate_accounts,
               provisioning, room_version, appservice_rate_limited, reinvite_to_community_rooms,
               reinvite_to_council_rooms, force_join, read_timeout_seconds, request_timeout_seconds,
               sync_timeout_seconds, max_answer_megabytes, max_sync_answer_megabytes, pass_timeout_minutes,
               resync_interval_minutes, source_interval_seconds, shutdown_grace_seconds, listen, ca_file] = settings;
  for (const std::string* text : {&homeserver_url, &server_name, &bot_user_id, &alias_prefix, &marker_event_type,
                                  &instance, &room_version, &listen, &ca_file}) {
    out.text(*text);
  }
  for (int number : {grace_period_days, mass_change_max_percent, mass_change_max_count, read_timeout_seconds,
                     request_timeout_seconds, sync_timeout_seconds, max_answer_megabytes, max_sync_answer_megabytes,
                     pass_timeout_minutes, resync_interval_minutes, source_interval_seconds,
                     shutdown_grace_seconds, static_cast<int>(provisioning)}) {
    out.signed_int(number);
  }
  for (bool flag : {deactivate_accounts, appservice_rate_limited, reinvite_to_community_rooms,
                    reinvite_to_council_rooms, force_join}) {
    out.boolean(flag);
  }
}

}  // namespace

std::string build_identity() {
  static const std::string identity = read_build_identity();
  return identity;
}

std::optional<std::string> desired_digest(const adapters::ManifestTexts& manifests, const model::Settings& settings) {
  const std::string build = build_identity();
  if (build.empty() || !manifests.diagnostics.empty() || manifests.files.size() != manifests.texts.size()) {
    return std::nullopt;
  }
  model::ByteWriter head;
  head.text(k_digest_tag);
  head.text(build);
  put_settings(head, settings);
  head.text(manifests.where);
  head.unsigned_int(manifests.files.size());
  adapters::Sha256 digest;
  digest.update(std::move(head).take());
  // Each file framed by its name and length, so no two sets digest alike.
  for (std::size_t i = 0; i < manifests.files.size(); ++i) {
    model::ByteWriter frame;
    frame.text(manifests.files[i]);
    frame.unsigned_int(manifests.texts[i].size());
    digest.update(std::move(frame).take());
    digest.update(manifests.texts[i]);
  }
  return digest.hex();
}

std::optional<model::MatrixState> recall_desired(adapters::CompiledDesiredCache& cache, const std::string& digest) {
  auto kept = cache.compiled_desired();
  if (!kept || !*kept || (*kept)->digest != digest) {
    return std::nullopt;
  }
  return model::decode_matrix_state((*kept)->state);
}

void keep_desired(adapters::CompiledDesiredCache& cache, const std::string& digest, const model::MatrixState& state) {
  // Best effort by design: the result is not needed for this pass.
  (void)cache.keep_compiled_desired({digest, model::encode_matrix_state(state)});
}

}  // namespace controller

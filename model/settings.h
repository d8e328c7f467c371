#pragma once
// Controller settings: where the homeserver is and how mxctl names and marks
// what it manages. Secrets (access tokens) are deliberately not here; they are
// read by the adapters from the environment or a file and never printed.

#include <string>

namespace model {

/// How accounts are created on the homeserver (seed 000/001).
enum class ProvisioningMode {
  /// Synapse admin API: `PUT /_synapse/admin/v2/users/{id}`.
  synapse_admin,
  /// Application service `/register` (portable to Conduit, Tuwunel, Dendrite).
  appservice,
};

/// "synapse-admin" or "appservice".
const char* to_string(ProvisioningMode mode);

struct Settings {
  /// Client-server API base URL, e.g. "https://matrix.example.org".
  std::string homeserver_url;
  /// The server name in MXIDs, e.g. "example.org".
  std::string server_name;
  /// The controller's own account, e.g. "@mxctl:example.org"; it creates and
  /// administers every managed room (power level 100).
  std::string bot_user_id;
  /// Prepended to every managed alias so they never collide with people's aliases.
  std::string alias_prefix = "mxctl.";
  /// State event type of the ownership marker put in every managed room.
  std::string marker_event_type = "org.mxctl.managed";
  /// Distinguishes two controllers sharing one homeserver (written in the marker).
  std::string instance = "default";
  /// How long an archived room is kept before it is hard-deleted.
  int grace_period_days = 60;
  /// Mass-change guard: a pass that would archive, delete or suspend more
  /// than this percentage of the managed objects stops before doing anything
  /// (unless --allow-mass-change).
  int mass_change_max_percent = 20;
  /// Mass-change guard: ... or more than this many objects.
  int mass_change_max_count = 100;
  /// How a deactivated person's account is closed: false (default) suspends
  /// it (Synapse suspend API, else `locked`), which keeps it whole; true uses
  /// Synapse's deactivate API, which is not a soft delete (it leaves every
  /// room, deletes keys and account data) and cannot be undone without a new
  /// password. Only on the operator's explicit request; never with erase.
  bool deactivate_accounts = false;
  ProvisioningMode provisioning = ProvisioningMode::synapse_admin;
  /// Room version for new rooms. Must support restricted joins (9 or later)
  /// where restricted rules are used; the compiler raises it when needed.
  std::string room_version = "10";
  /// Appservice provisioning only: the registration's `rate_limited` (true
  /// when absent or when no registration file was given). false means the
  /// homeserver does not rate-limit the bot.
  bool appservice_rate_limited = true;
  /// Re-invite someone who left a community room of their own accord
  /// (default no: leaving the general chat is a person's choice).
  bool reinvite_to_community_rooms = false;
  /// Re-invite someone who left a council room or coordination DM (default
  /// yes: council membership is an office, not a preference).
  bool reinvite_to_council_rooms = true;
  /// Join desired members directly (Synapse admin API `POST
  /// /_synapse/admin/v1/join`) instead of inviting them. Only with
  /// synapse-admin provisioning, and only for local users.
  bool force_join = false;

  // Bounds on waiting for the homeserver and on what it may send (README,
  // "The homeserver's answers"). A broken or hostile server must make a
  // pass fail with the cause named, never hang it or fill the memory.

  /// No byte for this long while waiting for or reading an answer ends the
  /// request ("no answer from ... within 30 s").
  int read_timeout_seconds = 30;
  /// One request, from sending it to the last byte of its answer, however
  /// slowly the bytes come.
  int request_timeout_seconds = 120;
  /// The /sync request: Synapse builds the whole answer (60 MB at 6,000
  /// rooms) before it sends a byte, so only this bounds it.
  int sync_timeout_seconds = 600;
  /// The largest answer read, in MB (2^20 bytes); /sync has its own.
  int max_answer_megabytes = 64;
  int max_sync_answer_megabytes = 512;
  /// A pass (observation and apply) ends by this time: requests and
  /// rate-limit waits stop at it and operations not started are skipped;
  /// the next pass goes on from what the homeserver then shows.
  int pass_timeout_minutes = 360;
  /// `mxctl run`: a pass reading every room afresh this often (what /sync
  /// cannot show, such as account flags changed through the admin API).
  int resync_interval_minutes = 60;
  /// `mxctl run`: how often the app database is read for changes.
  int source_interval_seconds = 60;
  /// `mxctl run`: how long a stop waits for the operations in flight.
  int shutdown_grace_seconds = 30;
  /// `mxctl run`: where /metrics, /healthz and /readyz are served
  /// (ADDR:PORT; `--listen` wins).
  std::string listen = "127.0.0.1:9464";
  /// PEM file of the certificate authorities an https homeserver's
  /// certificate must chain to; empty: the system's. Verification cannot be
  /// switched off.
  std::string ca_file;
};

}  // namespace model

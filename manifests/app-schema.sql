-- The community app's tables that mxctl reads (FT-01 communities, FT-02
-- members, FT-03 trust, FT-04 wealth sharing, FT-06 councils) with FT-17's
-- Matrix additions. Portable: the same file creates the schema on SQLite
-- (3.23 or later) and on PostgreSQL, so ids are TEXT (UUIDs in practice) and
-- the per-community config is JSON stored as TEXT. A PostgreSQL app may keep
-- UUID and JSONB columns: the default queries cast what they read.
--
--   sqlite3 app.db < manifests/app-schema.sql
--   psql -d app -f manifests/app-schema.sql
--
-- Topology keys: app_users.username, communities.slug and councils.slug are
-- the keys manifests use (metadata.name); an accepted request's key is
-- 'request-' || wealth_requests.id.

CREATE TABLE app_users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  display_name TEXT,
  avatar_url TEXT,
  -- NULL: the Matrix localpart is the username.
  matrix_localpart TEXT,
  -- Server admin on the homeserver (not a room role).
  is_server_admin BOOLEAN NOT NULL DEFAULT FALSE,
  -- Set when the person leaves: the account is suspended, never erased.
  deactivated_at TIMESTAMP
);

-- The same person's accounts on other homeservers (seed 004).
CREATE TABLE app_user_linked_accounts (
  user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  matrix_user_id TEXT NOT NULL,
  PRIMARY KEY (user_id, matrix_user_id)
);

CREATE TABLE communities (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  avatar_url TEXT,
  -- FT-12 settings, e.g. {"matrixEnabled": {"type": "boolean", "value": true}}
  config TEXT NOT NULL DEFAULT '{}',
  -- Soft delete: the community's rooms are archived.
  deleted_at TIMESTAMP,
  matrix_space_id TEXT,
  matrix_general_room_id TEXT
);

CREATE TABLE memberships (
  community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  trust_score INTEGER NOT NULL DEFAULT 0,
  -- 'member' or 'admin'
  role TEXT NOT NULL DEFAULT 'member',
  PRIMARY KEY (community_id, user_id)
);

CREATE TABLE councils (
  id TEXT PRIMARY KEY,
  community_id TEXT NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT,
  deleted_at TIMESTAMP,
  matrix_space_id TEXT,
  matrix_discussion_room_id TEXT
);

CREATE TABLE council_members (
  council_id TEXT NOT NULL REFERENCES councils(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  -- 'member' or 'chair'
  role TEXT NOT NULL DEFAULT 'member',
  PRIMARY KEY (council_id, user_id)
);

-- Things members share (FT-04); the owner is the other side of a request.
CREATE TABLE wealth (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  title TEXT NOT NULL
);

CREATE TABLE wealth_requests (
  id TEXT PRIMARY KEY,
  wealth_id TEXT NOT NULL REFERENCES wealth(id) ON DELETE CASCADE,
  requester_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  -- 'pending', 'accepted', 'declined', 'completed'; accepted ones get a room.
  status TEXT NOT NULL DEFAULT 'pending',
  -- Shown in the coordination room; NULL: the request id.
  link TEXT,
  -- The context message; NULL: FT-17's "Request accepted! ..." default.
  coordination_message TEXT,
  matrix_coordination_room_id TEXT
);

-- FT-17: which Matrix account each person was provisioned with.
CREATE TABLE matrix_user_mappings (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,
  matrix_user_id TEXT NOT NULL UNIQUE,
  provisioned_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  last_seen_at TIMESTAMP
);

CREATE INDEX idx_matrix_user_mappings_user ON matrix_user_mappings(user_id);
CREATE INDEX idx_matrix_user_mappings_matrix ON matrix_user_mappings(matrix_user_id);

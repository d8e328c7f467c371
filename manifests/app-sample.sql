-- A realistic data set for manifests/app-schema.sql: EXACTLY the instance of
-- manifests/*.yaml (20 people, 3 communities, 3 councils, 2 accepted
-- requests), so that
--   mxctl plan --from-db sqlite:///app.db manifests/policies.yaml
-- plans the same changes as
--   mxctl plan manifests/
-- The power policy ("gentle", used by hilltop) stays in YAML. Pending and
-- declined requests are here too: only accepted ones get a room.
--
--   sqlite3 app.db < manifests/app-schema.sql && sqlite3 app.db < manifests/app-sample.sql
--   psql -d app -f manifests/app-schema.sql -f manifests/app-sample.sql

INSERT INTO app_users (id, username, display_name, avatar_url, matrix_localpart, is_server_admin, deactivated_at) VALUES
  ('ed12ca0c-5149-50ed-8327-20d9f354f739', 'alice', 'Alice Moreau', 'mxc://example.org/AliceMoreauAvatar', NULL, TRUE, NULL),
  ('7afeac7b-a9ca-5c8d-b198-aafde29fe0a1', 'bob', NULL, NULL, NULL, FALSE, NULL),
  ('045e68fc-4781-5481-8472-21fe2c40e7f8', 'carol', 'Carol Nguyen', 'mxc://example.org/carol_nguyen-2024', NULL, FALSE, NULL),
  ('edc8e9f9-7154-59a7-9662-5f2c15926ce2', 'dana', 'Dana Kowalski', NULL, NULL, FALSE, NULL),
  ('60cbcfba-9e91-573e-8cbb-0634a0a25372', 'erin', NULL, NULL, NULL, FALSE, NULL),
  ('fb2a0d4d-069a-52fc-a0b2-f44569fac033', 'frank', NULL, NULL, NULL, FALSE, NULL),
  ('507b173a-52d8-5648-9139-809b8da1aaaf', 'grace', 'Grace Okafor', NULL, NULL, FALSE, NULL),
  ('d2789930-fe93-5763-8adb-c483bbe17ac1', 'heidi', NULL, NULL, NULL, FALSE, NULL),
  ('d89b5522-35f0-5970-bd81-c177ee6064ca', 'ivan', NULL, NULL, NULL, FALSE, NULL),
  ('1fe59623-91d5-51e0-be6b-8e877e3ee013', 'judy', NULL, NULL, NULL, FALSE, NULL),
  ('e0beff5b-6386-57b8-9953-e8d0ecb5370a', 'ken', NULL, NULL, NULL, FALSE, NULL),
  ('54eb2d5f-689b-5eab-99c6-db83fba1e043', 'leo', NULL, NULL, NULL, FALSE, NULL),
  ('1e856cce-5244-5244-bd00-14c7dc9ae955', 'mia', NULL, NULL, NULL, FALSE, NULL),
  ('c1552ef0-28b3-519a-aa98-2f0ecad6ce4e', 'niaj', NULL, NULL, NULL, FALSE, NULL),
  ('d6ea1722-f956-5d4b-ba40-b3b6b372db33', 'olivia', NULL, NULL, NULL, FALSE, NULL),
  ('d72202df-e4a9-5fb5-9000-234e545b2f1e', 'peggy', 'Peggy Lindqvist', NULL, NULL, FALSE, NULL),
  ('f44f8221-7eb7-5985-b810-f1b434c22a27', 'quinn', NULL, NULL, NULL, FALSE, NULL),
  ('a04dd402-4c9e-5de0-ab57-9873d5b761e6', 'rupert', NULL, NULL, NULL, FALSE, NULL),
  ('17780108-ea62-530c-b873-2caa2a669c06', 'sybil', NULL, NULL, 'sybil.r', FALSE, NULL),
  ('8b59a90c-59d2-50ab-8aea-3aa63dd9f77e', 'oscar', 'Oscar Brandt', NULL, NULL, FALSE, '2026-03-14 09:30:00');

INSERT INTO app_user_linked_accounts (user_id, matrix_user_id) VALUES
  ('edc8e9f9-7154-59a7-9662-5f2c15926ce2', '@dana:other.example');

-- harbor's members asked for an encrypted general room (FT-17: configurable);
-- hilltop uses the "gentle" power policy from manifests/policies.yaml.
INSERT INTO communities (id, slug, name, description, avatar_url, config) VALUES
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', 'riverside', 'Riverside Commons', 'Sharing tools, food and time along the river', 'mxc://example.org/RiversideCommonsLogo',
   '{"wealthSharingEnabled": {"type": "boolean", "value": true}, "matrixEnabled": {"type": "boolean", "value": true}, "matrixGeneralChatEncrypted": {"type": "boolean", "value": false}, "matrixCouncilChatsEncrypted": {"type": "boolean", "value": true}, "matrixGeneralRoomTopic": {"type": "string", "value": "Announcements and everyday chat for Riverside Commons"}}'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', 'harbor', 'Harbor Tool Library', 'Borrow, lend and repair tools at the old harbour shed', NULL,
   '{"wealthSharingEnabled": {"type": "boolean", "value": true}, "matrixEnabled": {"type": "boolean", "value": true}, "matrixGeneralChatEncrypted": {"type": "boolean", "value": true}, "matrixCouncilChatsEncrypted": {"type": "boolean", "value": true}, "matrixGeneralRoomName": {"type": "string", "value": "Harbor Workshop"}, "matrixGeneralRoomTopic": {"type": "string", "value": "Bookings, repairs and questions"}}'),
  ('0cc306f9-494f-5303-b48a-6f26f9fed960', 'hilltop', 'Hilltop Gardens', 'Allotments, seed swaps and shared harvests', NULL,
   '{"wealthSharingEnabled": {"type": "boolean", "value": true}, "matrixEnabled": {"type": "boolean", "value": true}, "matrixGeneralChatEncrypted": {"type": "boolean", "value": false}, "matrixCouncilChatsEncrypted": {"type": "boolean", "value": true}, "matrixPowerPolicy": {"type": "string", "value": "gentle"}}');

-- Trust scores: riverside's sit on both sides of every FT-17 band boundary.
INSERT INTO memberships (community_id, user_id, trust_score, role) VALUES
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', 'ed12ca0c-5149-50ed-8327-20d9f354f739', 42, 'admin'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', '7afeac7b-a9ca-5c8d-b198-aafde29fe0a1', 4, 'member'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', '045e68fc-4781-5481-8472-21fe2c40e7f8', 5, 'member'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', 'edc8e9f9-7154-59a7-9662-5f2c15926ce2', 14, 'member'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', '60cbcfba-9e91-573e-8cbb-0634a0a25372', 15, 'member'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', 'fb2a0d4d-069a-52fc-a0b2-f44569fac033', 29, 'member'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', '507b173a-52d8-5648-9139-809b8da1aaaf', 30, 'member'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', 'd2789930-fe93-5763-8adb-c483bbe17ac1', 0, 'member'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', 'd89b5522-35f0-5970-bd81-c177ee6064ca', 8, 'member'),
  ('30a270be-1ef9-55df-85ae-6a4d0d623c20', '1fe59623-91d5-51e0-be6b-8e877e3ee013', 22, 'member'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', '045e68fc-4781-5481-8472-21fe2c40e7f8', 35, 'admin'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', '7afeac7b-a9ca-5c8d-b198-aafde29fe0a1', 9, 'member'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', 'edc8e9f9-7154-59a7-9662-5f2c15926ce2', 6, 'member'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', 'e0beff5b-6386-57b8-9953-e8d0ecb5370a', 12, 'member'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', '54eb2d5f-689b-5eab-99c6-db83fba1e043', 3, 'member'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', '1e856cce-5244-5244-bd00-14c7dc9ae955', 17, 'member'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', 'c1552ef0-28b3-519a-aa98-2f0ecad6ce4e', 31, 'member'),
  ('6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', 'd6ea1722-f956-5d4b-ba40-b3b6b372db33', 0, 'member'),
  ('0cc306f9-494f-5303-b48a-6f26f9fed960', 'd72202df-e4a9-5fb5-9000-234e545b2f1e', 50, 'admin'),
  ('0cc306f9-494f-5303-b48a-6f26f9fed960', 'f44f8221-7eb7-5985-b810-f1b434c22a27', 2, 'member'),
  ('0cc306f9-494f-5303-b48a-6f26f9fed960', 'a04dd402-4c9e-5de0-ab57-9873d5b761e6', 10, 'member'),
  ('0cc306f9-494f-5303-b48a-6f26f9fed960', '17780108-ea62-530c-b873-2caa2a669c06', 20, 'member'),
  ('0cc306f9-494f-5303-b48a-6f26f9fed960', '1fe59623-91d5-51e0-be6b-8e877e3ee013', 3, 'member'),
  ('0cc306f9-494f-5303-b48a-6f26f9fed960', '60cbcfba-9e91-573e-8cbb-0634a0a25372', 25, 'member'),
  ('0cc306f9-494f-5303-b48a-6f26f9fed960', '1e856cce-5244-5244-bd00-14c7dc9ae955', 1, 'member');

INSERT INTO councils (id, community_id, slug, name, description) VALUES
  ('115486c1-7c09-5cbf-b40d-43f57de38d5f', '30a270be-1ef9-55df-85ae-6a4d0d623c20', 'disputes', 'Dispute Resolution Council', 'Confidential discussion of open disputes'),
  ('f99c1656-ed17-5df1-9650-1b780afbe564', '6f0be2ad-54ea-57bc-b50d-f62bd1aae9b6', 'stewards', 'Tool Stewards Council', 'Purchases, repairs and lending rules'),
  ('e5ac4dc3-7650-503d-b4b3-85863d120a8e', '0cc306f9-494f-5303-b48a-6f26f9fed960', 'seed-library', 'Seed Library Council', NULL);

INSERT INTO council_members (council_id, user_id, role) VALUES
  ('115486c1-7c09-5cbf-b40d-43f57de38d5f', '507b173a-52d8-5648-9139-809b8da1aaaf', 'chair'),
  ('115486c1-7c09-5cbf-b40d-43f57de38d5f', 'ed12ca0c-5149-50ed-8327-20d9f354f739', 'member'),
  ('115486c1-7c09-5cbf-b40d-43f57de38d5f', '60cbcfba-9e91-573e-8cbb-0634a0a25372', 'member'),
  ('115486c1-7c09-5cbf-b40d-43f57de38d5f', 'fb2a0d4d-069a-52fc-a0b2-f44569fac033', 'member'),
  ('f99c1656-ed17-5df1-9650-1b780afbe564', '045e68fc-4781-5481-8472-21fe2c40e7f8', 'chair'),
  ('f99c1656-ed17-5df1-9650-1b780afbe564', 'c1552ef0-28b3-519a-aa98-2f0ecad6ce4e', 'member'),
  ('f99c1656-ed17-5df1-9650-1b780afbe564', '1e856cce-5244-5244-bd00-14c7dc9ae955', 'member'),
  ('e5ac4dc3-7650-503d-b4b3-85863d120a8e', 'd72202df-e4a9-5fb5-9000-234e545b2f1e', 'chair'),
  ('e5ac4dc3-7650-503d-b4b3-85863d120a8e', '17780108-ea62-530c-b873-2caa2a669c06', 'member'),
  ('e5ac4dc3-7650-503d-b4b3-85863d120a8e', '60cbcfba-9e91-573e-8cbb-0634a0a25372', 'member');

INSERT INTO wealth (id, owner_id, title) VALUES
  ('e0359ae4-1814-5d8b-b900-240eed3b3cc7', '045e68fc-4781-5481-8472-21fe2c40e7f8', 'Folding table (seats 8)'),
  ('d23dd063-1e2a-5f44-813b-fddde44f147b', 'c1552ef0-28b3-519a-aa98-2f0ecad6ce4e', 'Pressure washer'),
  ('7190d673-698d-5461-a517-166d2e9c57f9', 'ed12ca0c-5149-50ed-8327-20d9f354f739', 'Extension ladder, 6 m'),
  ('99d2ca7f-2451-589e-9eeb-85f2bab44e30', 'd72202df-e4a9-5fb5-9000-234e545b2f1e', 'Seed trays (10)');

-- Request ids are the app's request numbers; the coordination room of an
-- accepted request is "request-<id>".
INSERT INTO wealth_requests (id, wealth_id, requester_id, status, link, coordination_message) VALUES
  ('8841', 'e0359ae4-1814-5d8b-b900-240eed3b3cc7', '7afeac7b-a9ca-5c8d-b198-aafde29fe0a1', 'accepted', 'https://communities.example.org/requests/8841',
   NULL),
  ('9120', 'd23dd063-1e2a-5f44-813b-fddde44f147b', 'e0beff5b-6386-57b8-9953-e8d0ecb5370a', 'accepted', NULL,
   'Request accepted! Coordinate pickup of the pressure washer for: request 9120'),
  ('9133', '7190d673-698d-5461-a517-166d2e9c57f9', 'fb2a0d4d-069a-52fc-a0b2-f44569fac033', 'pending', NULL,
   NULL),
  ('9051', '99d2ca7f-2451-589e-9eeb-85f2bab44e30', 'f44f8221-7eb7-5985-b810-f1b434c22a27', 'declined', NULL,
   NULL);

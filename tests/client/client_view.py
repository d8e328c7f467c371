#!/usr/bin/python3
"""The rooms of a desired state as its people meet them in a Matrix client.

For every active person of `mxctl desired -o json`, through matrix-nio (the
client library, Debian's python3-matrix-nio) with an admin login-as token:
sync, check the invites (a DM's marked direct), accept them, sync again, then
check each room's name, topic, encryption and the person's power level, that
the band refuses what it forbids (a rename, a kick), a DM's m.direct entry
and context message (once, first, in plain text, before the encryption and
the invites), and which councils each community's hierarchy shows.

Prints one line per problem and exits 1 when there is any, 0 when there is
none, 2 when it could not run at all. Used by the real-server suite and the
end-to-end suite (against mxsim).
"""

import argparse
import asyncio
import collections
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

import nio


def quote(text):
    return urllib.parse.quote(text, safe="")


class Server:
    """Plain HTTP for what a client library does not wrap: admin login-as,
    alias lookups, account data and the space hierarchy."""

    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")

    def call(self, method, path, token, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method,
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read()
            try:
                return error.code, json.loads(text or b"null")
            except ValueError:
                return error.code, {"raw": text.decode(errors="replace")}


class Person:
    """One person's view, and the problems found in it."""

    def __init__(self, server, desired, room_ids, user_id, bot, problems, counts):
        self.counts = counts
        self.server = server
        self.desired = desired
        self.room_ids = room_ids
        self.user_id = user_id
        self.bot = bot
        self.problems = problems
        self.rooms = {key: room for key, room in desired["rooms"].items()
                      if user_id in room["members"] and not room.get("archived")}
        self.token = None
        self.client = None

    def problem(self, where, what):
        self.problems.append(f"{self.user_id} in {where}: {what}")

    async def check(self, admin_token):
        status, login = self.server.call("POST", f"/_synapse/admin/v1/users/{quote(self.user_id)}/login",
                                         admin_token, {})
        if status != 200 or "access_token" not in login:
            self.problem("login", f"admin login-as answered {status} {login}")
            return
        self.token = login["access_token"]
        self.client = nio.AsyncClient(self.server.base_url, self.user_id,
                                      config=nio.AsyncClientConfig(encryption_enabled=False))
        self.client.access_token = self.token
        self.client.user_id = self.user_id
        try:
            first = await self.client.sync(timeout=0, full_state=True)
            if not isinstance(first, nio.SyncResponse):
                self.problem("sync", str(first))
                return
            await self.accept_invites(first)
            second = await self.client.sync(timeout=0, since=first.next_batch, full_state=True)
            if not isinstance(second, nio.SyncResponse):
                self.problem("sync", str(second))
                return
            for key, room in sorted(self.rooms.items()):
                await self.check_room(key, room)
            self.check_hierarchies()
        finally:
            await self.client.logout()
            await self.client.close()

    async def accept_invites(self, sync):
        # Spaces first: a room restricted to a space admits its members.
        order = sorted(self.rooms.items(), key=lambda item: (item[1]["kind"] != "space", item[0]))
        for key, room in order:
            room_id = self.room_ids[key]
            if room_id in sync.rooms.join:
                continue
            invite = sync.rooms.invite.get(room_id)
            if invite is None and room["join_rule"] != "restricted":
                self.problem(key, "no invite and no way in")
                continue
            if invite is not None and room.get("is_direct"):
                mine = [event for event in invite.invite_state
                        if isinstance(event, nio.InviteMemberEvent) and event.state_key == self.user_id]
                self.counts["direct_invites"] += 1
                if not mine or mine[-1].content.get("is_direct") is not True:
                    self.problem(key, "the invite does not say it is a direct chat: "
                                 + (json.dumps(mine[-1].content) if mine else "no member event"))
            joined = await self.client.join(room_id)
            if not isinstance(joined, nio.JoinResponse):
                self.problem(key, f"cannot join: {joined}")

    async def check_room(self, key, want):
        room_id = self.room_ids[key]
        room = self.client.rooms.get(room_id)
        if room is None:
            self.problem(key, "the client does not show the room as joined")
            return
        if room.name != want["name"]:
            self.problem(key, f"name {room.name!r}, desired {want['name']!r}")
        if (room.topic or "") != want.get("topic", ""):
            self.problem(key, f"topic {room.topic!r}, desired {want.get('topic', '')!r}")
        if room.encrypted != want["encrypted"]:
            self.problem(key, f"encrypted is {room.encrypted}, desired {want['encrypted']}")
        levels = want["power_levels"]
        level = levels["users"].get(self.user_id, levels["users_default"])
        if room.power_levels.get_user_level(self.user_id) != level:
            self.problem(key, f"power level {room.power_levels.get_user_level(self.user_id)}, desired {level}")
        await self.check_band(key, room, level, levels)
        if want.get("is_direct"):
            self.check_direct_listing(key, want)
        if "once_message" in want:
            await self.check_opening(key, room_id, want["once_message"]["body"])

    async def check_band(self, key, room, level, levels):
        rename_level = levels["events"].get("m.room.name", levels["state_default"])
        if level < rename_level:
            if room.power_levels.can_user_send_state(self.user_id, "m.room.name"):
                self.problem(key, f"the client offers a rename at level {level}")
            answer = await self.client.room_put_state(room.room_id, "m.room.name",
                                                      {"name": f"renamed by {self.user_id}"})
            self.counts[f"refused_renames_at_{level}"] += 1
            if not isinstance(answer, nio.RoomPutStateError) or answer.status_code != "M_FORBIDDEN":
                self.problem(key, f"a rename at level {level} (band {rename_level}) was not refused: {answer}")
        if level < levels["kick"]:
            others = sorted((levels["users"].get(user, levels["users_default"]), user)
                            for user in room.users if user not in (self.user_id, self.bot))
            if others:
                target = others[0][1]
                if room.power_levels.can_user_kick(self.user_id):
                    self.problem(key, f"the client offers a kick at level {level}")
                answer = await self.client.room_kick(room.room_id, target, reason="client view check")
                self.counts[f"refused_kicks_at_{level}"] += 1
                if not isinstance(answer, nio.RoomKickError) or answer.status_code != "M_FORBIDDEN":
                    self.problem(key, f"a kick at level {level} (band {levels['kick']}) was not refused: {answer}")

    def check_direct_listing(self, key, want):
        status, direct = self.server.call(
            "GET", f"/_matrix/client/v3/user/{quote(self.user_id)}/account_data/m.direct", self.token)
        if status != 200:
            self.problem(key, f"no m.direct ({status} {direct})")
            return
        room_id = self.room_ids[key]
        for other in want["members"]:
            if other != self.user_id and room_id not in direct.get(other, []):
                self.problem(key, f"m.direct does not list the room under {other}: {json.dumps(direct)}")

    async def check_opening(self, key, room_id, body):
        page = await self.client.room_messages(room_id, start=self.client.next_batch,
                                               direction=nio.MessageDirection.back, limit=1000)
        if not isinstance(page, nio.RoomMessagesResponse):
            self.problem(key, f"cannot read the timeline: {page}")
            return
        self.counts["openings"] += 1
        events = list(reversed(page.chunk))
        messages = [i for i, event in enumerate(events)
                    if isinstance(event, (nio.RoomMessage, nio.MegolmEvent))]
        context = [i for i in messages
                   if isinstance(events[i], nio.RoomMessageText) and events[i].body == body]
        if len(context) != 1:
            self.problem(key, f"the context message is there {len(context)} times")
            return
        if messages[0] != context[0]:
            self.problem(key, f"the first message is {events[messages[0]]}, not the context message")
        if events[context[0]].sender != self.bot:
            self.problem(key, f"the context message is from {events[context[0]].sender}")
        encryption = [i for i, event in enumerate(events) if isinstance(event, nio.RoomEncryptionEvent)]
        invites = [i for i, event in enumerate(events)
                   if isinstance(event, nio.RoomMemberEvent) and event.membership == "invite"]
        if not encryption or encryption[0] < context[0]:
            self.problem(key, "the context message was sent into an encrypted room")
        if invites and (not encryption or invites[0] < encryption[0] or invites[0] < context[0]):
            self.problem(key, "someone was invited before the context message and the encryption")

    def check_hierarchies(self):
        for key, room in sorted(self.rooms.items()):
            if room["kind"] != "space" or not key.startswith("community/"):
                continue
            status, answer = self.server.call(
                "GET", f"/_matrix/client/v1/rooms/{quote(self.room_ids[key])}/hierarchy", self.token)
            if status != 200:
                self.problem(key, f"no hierarchy ({status} {answer})")
                continue
            self.counts["hierarchies"] += 1
            shown = {entry["room_id"] for entry in answer.get("rooms", [])}
            for child in room.get("children", []):
                child_key = child["key"]
                member = self.user_id in self.desired["rooms"][child_key]["members"]
                visible = self.room_ids[child_key] in shown
                if child_key.startswith("council/") and visible != member:
                    self.problem(key, f"the hierarchy {'shows' if visible else 'hides'} {child_key}, whose "
                                 f"member they {'are' if member else 'are not'}")
                if child_key.startswith("community/") and not visible:
                    self.problem(key, f"the hierarchy hides {child_key}")


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--admin-token-file", required=True)
    parser.add_argument("--desired", required=True, help="mxctl desired -o json")
    parser.add_argument("--bot", required=True)
    args = parser.parse_args()
    with open(args.admin_token_file) as file:
        admin_token = file.read().strip()
    with open(args.desired) as file:
        desired = json.load(file)
    server = Server(args.homeserver)
    room_ids = {}
    for key, room in desired["rooms"].items():
        status, answer = server.call("GET", f"/_matrix/client/v3/directory/room/{quote(room['alias'])}", admin_token)
        if status != 200:
            print(f"cannot run: alias {room['alias']} answered {status} {answer}")
            return 2
        room_ids[key] = answer["room_id"]
    server_name = args.bot.split(":", 1)[1]
    people = sorted(account["user_id"] for account in desired["accounts"].values()
                    if account["status"] == "active" and account["user_id"].endswith(":" + server_name))
    problems = []
    counts = collections.Counter()
    rooms_seen = 0
    for user_id in people:
        person = Person(server, desired, room_ids, user_id, args.bot, problems, counts)
        await person.check(admin_token)
        rooms_seen += len(person.rooms)
    for line in problems:
        print(line)
    counts.update(people=len(people), room_memberships=rooms_seen, problems=len(problems))
    print("client view: " + " ".join(f"{name}={count}" for name, count in sorted(counts.items())))
    return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(asyncio.wait_for(main(), timeout=600)))
    except asyncio.TimeoutError:
        print("cannot run: the checks took more than 600 s")
        sys.exit(2)

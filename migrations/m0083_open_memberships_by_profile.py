"""A person's open memberships, found from the person: what every (re)connect reads first.

`open_cursors` asks `profile = $1 AND left_seq IS NULL`. The only partial index that matched
was `thread_member_open (thread, profile)`, and where the planner had no statistics yet it
took it, reading the whole index for the profile: 0.2 ms per connect at 14,000 memberships
in a reconnect storm, more with more (auto_explain, bench/RESULTS.md, issue 10, fifth session).
"""

from server.db import index_migration

ID = "2026-11-30T23:58:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Open memberships by profile"

INDEXES = {
    "thread_member_open_by_profile": (
        "CREATE INDEX thread_member_open_by_profile ON thread_member (profile, thread) "
        "WHERE left_seq IS NULL"
    ),
}

forwards = index_migration(ID, DESCRIPTION, INDEXES)

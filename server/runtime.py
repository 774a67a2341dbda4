"""The long-lived parts of one server process, handed to handlers by dependency injection."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State

from server.bus import Bus
from server.mail.sender import OutboxSender
from server.security import Passwords
from server.settings import Settings
from server.throttle import LoginThrottle
from server.ws.sessions import SessionWatch


@dataclass
class Runtime:
    settings: Settings
    passwords: Passwords
    throttle: LoginThrottle
    outbox: OutboxSender
    bus: Bus
    sessions: SessionWatch


def get_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime

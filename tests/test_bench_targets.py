"""The bench's verdicts on issue 10's targets, from a run's figures: a knee below the target
or the baseline's share, a lost message at any step, a slow reconnect against the baseline's,
and a knee measured at a looser p99 than the target's (no verdict) are all read right."""

from __future__ import annotations

from typing import Any

from bench.cli import targets


def _step(rate: float, p50: float = 2.0, p99: float = 10.0, lost: int = 0) -> dict[str, Any]:
    return {"offered_rate": rate, "delivery_ms": {"p50": p50, "p99": p99}, "lost": lost,
            "duplicates": 0, "order_errors": 0}


def _run(pg_knee: float = 2320, base_2p: float = 3840, limit: float = 50,
         lost_at_1510: int = 0, reconnect: float = 7.5) -> dict[str, Any]:
    steps = [_step(770), _step(1080), _step(1510, lost=lost_at_1510)]
    pg = {"server_processes": 2,
          "knee": {"p99_limit_ms": limit, "highest_rate_held": pg_knee, "steps": steps},
          "reconnect": {"clients": 5000, "synced": 5000, "not_synced": 0,
                        "all_synced_after_ready_s": reconnect, "all_synced_after_stop_s": 9}}
    emb = {"server_processes": 1,
           "knee": {"p99_limit_ms": limit, "highest_rate_held": 1400, "steps": steps[:2]}}
    return {"configs": {"embedded": emb, "pg_redis": pg},
            "baseline": {"1p": {"knee": {"highest_rate_held": 4960}},
                         "2p": {"knee": {"highest_rate_held": base_2p},
                                "reconnect": {"all_synced_after_ready_s": 4.0}}}}


def _verdicts(result: dict[str, Any]) -> dict[str, bool | None]:
    return {row["target"].split(":")[0]: row["met"] for row in targets(result)}


def test_a_run_meeting_every_target_reads_met() -> None:
    verdicts = _verdicts(_run())
    assert verdicts and all(verdicts.values()), verdicts


def test_a_knee_under_target_or_under_the_baselines_share_is_missed() -> None:
    assert _verdicts(_run(pg_knee=1900))["PostgreSQL + Redis, 2 processes"] is False
    assert _verdicts(_run(base_2p=6000))["PostgreSQL + Redis, 2 processes"] is False


def test_a_knee_found_at_a_looser_p99_gets_no_verdict() -> None:
    verdicts = _verdicts(_run(limit=100))
    assert verdicts["PostgreSQL + Redis, 2 processes"] is None
    assert verdicts["embedded (SQLite, 1 process)"] is None


def test_one_lost_message_at_any_step_is_a_miss() -> None:
    rows = {row["target"]: row for row in targets(_run(lost_at_1510=1))}
    row = rows["lost / duplicated / out of order 0 / 0 / 0 at every rate (pg_redis)"]
    assert row["met"] is False and row["measured"].startswith("1 / 0 / 0")


def test_a_reconnect_over_twice_the_baselines_is_a_miss_even_under_ten_seconds() -> None:
    verdicts = _verdicts(_run(reconnect=8.5))
    assert verdicts["5,000 clients reconnect and sync after a restart"] is False

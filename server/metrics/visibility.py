"""Eating-disorder mode: the one rule of which metrics a client may see, for every domain that
shows metric values (metrics, goals on a metric).

Per client, the care team switches it on; while it is on, the metrics marked `hideable` in the
catalogue (body weight, BMI) are hidden from the client everywhere, and the team still sees them.
"""

from __future__ import annotations

import uuid

from server.metrics.tables import MetricSettings
from server.metrics.units import CATALOGUE
from server.onboarding.access import ClientAccess

HIDEABLE = frozenset(key for key, metric in CATALOGUE.items() if metric.hideable)


async def ed_mode(client_id: uuid.UUID) -> bool:
    """Whether eating-disorder mode is on for this client."""
    row = await MetricSettings.select(MetricSettings.eating_disorder_mode).where(
        MetricSettings.client == client_id).first()
    return bool(row and row["eating_disorder_mode"])


async def hidden_from_caller(found: ClientAccess) -> bool:
    """Whether weight and BMI are hidden from this caller: the client in ED mode."""
    return not found.as_team and await ed_mode(found.client_id)


def hideable(metric_key: str | None) -> bool:
    return metric_key is not None and metric_key in HIDEABLE

"""Settings: one typed object, read once from the environment.

Every field is documented in the README's settings table; keep the two in step.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the service refuses to start."""


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _sqlite_synchronous(env: dict[str, str]) -> str:
    raw = (env.get("SQLITE_SYNCHRONOUS") or "FULL").upper()
    if raw not in ("FULL", "NORMAL", "EXTRA"):
        raise SettingsError(f"SQLITE_SYNCHRONOUS must be FULL, NORMAL or EXTRA, got {raw!r}")
    return raw


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _floats(env: dict[str, str], name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        values = tuple(sorted(float(v) for v in raw.split(",") if v.strip()))
    except ValueError as exc:
        raise SettingsError(f"{name} must be comma-separated numbers, got {raw!r}") from exc
    if any(v <= 0 for v in values):
        raise SettingsError(f"{name} must be positive")
    return values


def _list(env: dict[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    redis_namespace: str
    smtp_url: str | None
    smtp_tls: str
    mail_from: str
    base_url: str
    secret_key: str
    allowed_origins: tuple[str, ...]
    session_lifetime_seconds: int
    session_idle_timeout_seconds: int
    bot_token_lifetime_seconds: int
    invitation_lifetime_seconds: int
    login_failure_limit: int
    login_failure_window_seconds: int
    password_hash_concurrency: int
    password_hash_niceness: int
    argon2_time_cost: int
    argon2_memory_kib: int
    argon2_parallelism: int
    outbox_poll_seconds: float
    max_message_length: int = 16_000
    max_frame_bytes: int = 64 * 1024
    # First threshold of the garbage collector (server/gctune.py); 0 keeps CPython's defaults.
    gc_gen0_threshold: int = 50_000
    ws_messages_per_second: int = 20
    ws_burst: int = 60
    ws_queue_limit: int = 1000
    ws_liveness_seconds: float = 30
    ws_sync_grace_seconds: float = 1.0
    form_reminder_days: tuple[float, ...] = (2.0, 5.0)
    form_reminder_poll_seconds: float = 60
    phone_region: str = "US"
    notify_delay_seconds: float = 300
    notify_poll_seconds: float = 30
    scheduled_poll_seconds: float = 5
    webhook_poll_seconds: float = 2
    webhook_timeout_seconds: float = 10
    webhook_retry_seconds: float = 24 * 3600
    vapid_private_key: str = ""
    vapid_subject: str = ""
    appointment_reminder_poll_seconds: float = 60
    task_reminder_minutes: int = 60
    care_poll_seconds: float = 30
    max_upload_bytes: int = 25 * 1024 * 1024
    practice_quota_bytes: int = 10 * 1024**3
    files_dir: str = ""
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_prefix: str = ""
    unattached_file_hours: float = 24
    file_cleanup_poll_seconds: float = 600
    # SQLite's `synchronous` on the embedded database: FULL (the default) makes every
    # acknowledged message survive a power loss; NORMAL only an application crash, for a
    # higher write rate (bench/RESULTS.md).
    sqlite_synchronous: str = "FULL"
    # PostgreSQL connections per process, at most (each server process has its own pool).
    db_pool_size: int = 20
    # uvicorn's event loop: "auto" takes uvloop (installed with the server), "asyncio" the
    # standard library's; the bench compares the two.
    event_loop: str = "auto"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(_sqlite_path(self.database_url))

    @property
    def cookie_secure(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"


def _sqlite_path(url: str) -> str:
    # sqlite:///relative.db  -> relative.db ; sqlite:////abs/path.db -> /abs/path.db
    rest = url.split(":", 1)[1]
    if rest.startswith("///"):
        return rest[3:]
    if rest.startswith("//"):
        return rest[2:]
    return rest


def _files_dir(database_url: str) -> str:
    """Uploaded files live beside the SQLite file (`carethread.db.files/`), or in the working
    folder's `carethread-files/` with PostgreSQL."""
    if database_url.startswith("sqlite"):
        db_path = Path(_sqlite_path(database_url))
        return str(db_path.with_name(db_path.name + ".files"))
    return "carethread-files"


def _secret_key(env: dict[str, str], database_url: str) -> str:
    key = env.get("SECRET_KEY", "")
    if key:
        if len(key) < 32:
            raise SettingsError("SECRET_KEY must be at least 32 characters")
        return key
    if not database_url.startswith("sqlite"):
        raise SettingsError("SECRET_KEY is required when DATABASE_URL is not SQLite")
    db_path = Path(_sqlite_path(database_url)).resolve()
    key_file = db_path.with_name(db_path.name + ".secret_key")
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _vapid_key(env: dict[str, str], database_url: str, secret_key: str) -> str:
    """The VAPID private key (raw P-256 scalar, base64url): from VAPID_PRIVATE_KEY; else kept
    in a file beside a SQLite database (made on first start, like the secret key); else, with
    PostgreSQL, derived from SECRET_KEY so that every process signs with the same key."""
    import base64
    import hashlib
    import hmac

    key = env.get("VAPID_PRIVATE_KEY", "").strip()
    if key:
        return key

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def scalar(seed: bytes) -> bytes:
        # A valid P-256 private scalar in [1, n-1].
        n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
        return (int.from_bytes(seed, "big") % (n - 1) + 1).to_bytes(32, "big")

    if not database_url.startswith("sqlite"):
        seed = hmac.new(secret_key.encode(), b"carethread vapid key", hashlib.sha512).digest()
        return encode(scalar(seed))
    db_path = Path(_sqlite_path(database_url)).resolve()
    key_file = db_path.with_name(db_path.name + ".vapid_key")
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = encode(scalar(secrets.token_bytes(64)))
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    database_url = env.get("DATABASE_URL") or "sqlite:///carethread.db"
    if not database_url.startswith(("sqlite:", "postgres://", "postgresql://")):
        raise SettingsError("DATABASE_URL must start with sqlite:, postgres:// or postgresql://")
    base_url = (env.get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
    origins = _list(env, "ALLOWED_ORIGINS")
    secret_key = _secret_key(env, database_url)
    settings = Settings(
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or None,
        redis_namespace=env.get("REDIS_NAMESPACE") or "carethread",
        smtp_url=env.get("SMTP_URL") or None,
        smtp_tls=env.get("SMTP_TLS", "auto"),
        mail_from=env.get("MAIL_FROM", "Carethread <no-reply@carethread.local>"),
        base_url=base_url,
        secret_key=secret_key,
        allowed_origins=origins,
        session_lifetime_seconds=_int(env, "SESSION_LIFETIME_SECONDS", 30 * 24 * 3600),
        session_idle_timeout_seconds=_int(env, "SESSION_IDLE_TIMEOUT_SECONDS", 7 * 24 * 3600),
        bot_token_lifetime_seconds=_int(env, "BOT_TOKEN_LIFETIME_SECONDS", 365 * 24 * 3600),
        invitation_lifetime_seconds=_int(env, "INVITATION_LIFETIME_SECONDS", 7 * 24 * 3600),
        login_failure_limit=_int(env, "LOGIN_FAILURE_LIMIT", 10),
        login_failure_window_seconds=_int(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900),
        password_hash_concurrency=_int(env, "PASSWORD_HASH_CONCURRENCY", 2),
        password_hash_niceness=_int(env, "PASSWORD_HASH_NICENESS", 10),
        argon2_time_cost=_int(env, "ARGON2_TIME_COST", 3),
        argon2_memory_kib=_int(env, "ARGON2_MEMORY_KIB", 65536),
        argon2_parallelism=_int(env, "ARGON2_PARALLELISM", 4),
        outbox_poll_seconds=float(env.get("OUTBOX_POLL_SECONDS") or 5),
        max_message_length=_int(env, "MAX_MESSAGE_LENGTH", 16_000),
        max_frame_bytes=_int(env, "MAX_FRAME_BYTES", 64 * 1024),
        gc_gen0_threshold=_int(env, "GC_GEN0_THRESHOLD", 50_000),
        ws_messages_per_second=_int(env, "WS_MESSAGES_PER_SECOND", 20),
        ws_burst=_int(env, "WS_BURST", 60),
        ws_queue_limit=_int(env, "WS_QUEUE_LIMIT", 1000),
        ws_liveness_seconds=float(env.get("WS_LIVENESS_SECONDS") or 30),
        ws_sync_grace_seconds=float(env.get("WS_SYNC_GRACE_SECONDS") or 1.0),
        form_reminder_days=_floats(env, "FORM_REMINDER_DAYS", (2.0, 5.0)),
        form_reminder_poll_seconds=float(env.get("FORM_REMINDER_POLL_SECONDS") or 60),
        phone_region=(env.get("PHONE_REGION") or "US").upper(),
        notify_delay_seconds=_float(env, "NOTIFY_DELAY_SECONDS", 300),
        notify_poll_seconds=_float(env, "NOTIFY_POLL_SECONDS", 30),
        scheduled_poll_seconds=_float(env, "SCHEDULED_POLL_SECONDS", 5),
        webhook_poll_seconds=_float(env, "WEBHOOK_POLL_SECONDS", 2),
        webhook_timeout_seconds=_float(env, "WEBHOOK_TIMEOUT_SECONDS", 10),
        webhook_retry_seconds=_float(env, "WEBHOOK_RETRY_SECONDS", 24 * 3600),
        vapid_private_key=_vapid_key(env, database_url, secret_key),
        vapid_subject=env.get("VAPID_SUBJECT") or "",
        appointment_reminder_poll_seconds=float(
            env.get("APPOINTMENT_REMINDER_POLL_SECONDS") or 60),
        task_reminder_minutes=_int(env, "TASK_REMINDER_MINUTES", 60),
        care_poll_seconds=float(env.get("CARE_POLL_SECONDS") or 30),
        max_upload_bytes=_int(env, "MAX_UPLOAD_BYTES", 25 * 1024 * 1024),
        practice_quota_bytes=_int(env, "PRACTICE_QUOTA_BYTES", 10 * 1024**3),
        files_dir=env.get("FILES_DIR") or _files_dir(database_url),
        s3_bucket=env.get("S3_BUCKET") or None,
        s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
        s3_region=env.get("S3_REGION") or "us-east-1",
        s3_access_key_id=env.get("S3_ACCESS_KEY_ID") or None,
        s3_secret_access_key=env.get("S3_SECRET_ACCESS_KEY") or None,
        s3_prefix=(env.get("S3_PREFIX") or "").strip("/"),
        unattached_file_hours=float(env.get("UNATTACHED_FILE_HOURS") or 24),
        file_cleanup_poll_seconds=float(env.get("FILE_CLEANUP_POLL_SECONDS") or 600),
        sqlite_synchronous=_sqlite_synchronous(env),
        db_pool_size=_int(env, "DB_POOL_SIZE", 20),
        event_loop=(env.get("EVENT_LOOP") or "auto").strip().lower(),
    )
    if settings.event_loop not in ("auto", "asyncio", "uvloop"):
        raise SettingsError("EVENT_LOOP must be auto, asyncio or uvloop")
    if settings.db_pool_size < 2:
        raise SettingsError("DB_POOL_SIZE must be at least 2")
    if settings.max_upload_bytes <= 0 or settings.practice_quota_bytes <= 0:
        raise SettingsError("MAX_UPLOAD_BYTES and PRACTICE_QUOTA_BYTES must be positive")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()

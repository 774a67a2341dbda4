"""Piccolo's configuration: the engine comes from the same settings as the service."""

from piccolo.conf.apps import AppRegistry

from server.db import make_engine
from server.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["server.piccolo_app"])

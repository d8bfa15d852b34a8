"""LOREBOT_METRICS_PORT moves /metrics off the port Slack reaches; unset, nothing changes."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from bot.server import Readiness, http_listeners
from bot.settings import load_settings


def _get(app, path: str) -> int:
    with TestClient(app) as client:
        return client.get(path).status_code


def test_default_keeps_metrics_on_the_main_port() -> None:
    settings = load_settings(_env_file=None)
    listeners = http_listeners(settings, Readiness(db=None))
    assert [(x.host, x.port) for x in listeners] == [("0.0.0.0", 3000)]
    assert _get(listeners[0].app, "/metrics") == 200 and _get(listeners[0].app, "/healthz") == 200


def test_metrics_port_serves_metrics_and_probes_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOREBOT_METRICS_PORT", "9090")
    monkeypatch.setenv("LOREBOT_METRICS_HOST", "127.0.0.1")
    settings = load_settings(_env_file=None)
    main, probes = http_listeners(settings, Readiness(db=None))
    assert (main.host, main.port) == ("0.0.0.0", 3000) and (probes.host, probes.port) == ("127.0.0.1", 9090)
    assert _get(main.app, "/metrics") == 404  # not on the public port
    assert _get(main.app, "/healthz") == 200
    assert _get(probes.app, "/metrics") == 200 and _get(probes.app, "/healthz") == 200
    assert _get(probes.app, "/readyz") == 503  # no database opened: not ready, and says so there


def test_metrics_port_equal_to_the_main_port_is_one_listener(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOREBOT_METRICS_PORT", "3000")
    listeners = http_listeners(load_settings(_env_file=None), Readiness(db=None))
    assert len(listeners) == 1 and _get(listeners[0].app, "/metrics") == 200


def test_bad_metrics_port_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import ConfigError

    monkeypatch.setenv("LOREBOT_METRICS_PORT", "70000")
    with pytest.raises(ConfigError, match="lorebot_metrics_port"):
        load_settings(_env_file=None)

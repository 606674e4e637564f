"""The app factory wires every area or none: a broken area stops the app with its own error."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from hotline import create_app, wiring


def test_an_area_that_fails_to_import_stops_the_app_with_the_import_error(
        app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # As if a file of the Open311 channel were missing from the install.
    import channels.open311.views  # noqa: F401  (so that there is an attribute to take away)

    monkeypatch.delattr(sys.modules["channels.open311"], "views")
    monkeypatch.setitem(sys.modules, "channels.open311.views", None)
    with pytest.raises(ImportError, match=r"channels\.open311\.views"):
        create_app(app_config)


def test_an_area_whose_dependency_is_missing_stops_the_app_with_that_error(
        app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    package = tmp_path / "hotline_test_broken_area"
    package.mkdir()
    (package / "__init__.py").write_text("import hotline_test_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(wiring, "AREAS", (*wiring.AREAS, ("broken", "hotline_test_broken_area")))
    with pytest.raises(ModuleNotFoundError, match="hotline_test_no_such_dependency"):
        create_app(app_config)


def test_a_handler_the_table_names_wrongly_stops_the_app(
        app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    table = dict(wiring.EVENT_HANDLERS)
    table[wiring.ActionTaken] = (*table[wiring.ActionTaken],
                                 ("workers", "hotline.followup.no_such_handler"))
    monkeypatch.setattr(wiring, "EVENT_HANDLERS", table)
    with pytest.raises(AttributeError, match="no_such_handler"):
        create_app(app_config)


def test_an_unknown_area_is_refused(app_config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="wechta"):
        create_app({**app_config, "HOTLINE_AREAS": ("routing", "wechta")})



def test_a_session_listener_the_table_names_wrongly_stops_the_app(
        app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wiring, "SESSION_LISTENERS", (
        *wiring.SESSION_LISTENERS, ("workers", "after_commit", "workers.relay.no_such_listener")))
    with pytest.raises(AttributeError, match="no_such_listener"):
        create_app(app_config)


def test_a_command_module_that_fails_to_import_stops_the_command_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wiring, "COMMANDS", (
        *wiring.COMMANDS, ("broken", "hotline_test_no_such_area.cli.commands")))
    with pytest.raises(ModuleNotFoundError, match="hotline_test_no_such_area"):
        wiring.commands()


def test_the_command_line_has_every_areas_commands() -> None:
    import click

    from hotline.cli import main

    context = click.Context(main)
    for command in wiring.commands():
        assert main.get_command(context, command.name) is command
    assert {"routing-eval", "sweep", "wechat-menu", "phone-urls", "report", "create-user",
            "run"} <= set(main.list_commands(context))


def test_an_app_without_web_parts_resolves_a_handler_or_provider_at_its_first_use(
        app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """`create_app(web=False)` (`hotline create-user`): the tables are the web app's, each row
    imported when first asked for, a broken one failing then with its own error."""
    full = wiring.wiring_of(create_app(app_config))
    monkeypatch.setattr(wiring, "PROVIDERS", {
        **wiring.PROVIDERS, "broken": (("wechat", "hotline_test_no_such_area.provide"),)})
    lean = wiring.wiring_of(create_app(app_config, web=False))
    for role in ("warm_up", "survey_call", "seed", "broken"):
        assert role in lean.providers
    assert lean.providers["warm_up"] == full.providers["warm_up"]
    assert lean.providers.get("survey_call") == full.providers["survey_call"]
    assert lean.handlers.get(wiring.ActionTaken) == full.handlers[wiring.ActionTaken]
    assert lean.inbox.get("sms") is full.inbox["sms"]
    assert lean.providers.get("no such role") is None
    with pytest.raises(ModuleNotFoundError, match="hotline_test_no_such_area"):
        lean.providers["broken"]
    with pytest.raises(ModuleNotFoundError, match="hotline_test_no_such_area"):
        create_app(app_config)

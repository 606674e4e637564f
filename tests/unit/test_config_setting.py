"""One reader for every setting (hotline.config.setting): the configuration, else the
environment, else the default, with text turned into the default's type."""

from __future__ import annotations

import pytest

from hotline.config import setting


def test_configuration_then_environment_then_default(monkeypatch):
    assert setting("SURVEY_CALL_PHONE_CALLERS", False, config={}) is False
    monkeypatch.setenv("SURVEY_CALL_PHONE_CALLERS", "yes")
    assert setting("SURVEY_CALL_PHONE_CALLERS", False, config={}) is True
    assert setting("SURVEY_CALL_PHONE_CALLERS", False,
                   config={"SURVEY_CALL_PHONE_CALLERS": False}) is False
    monkeypatch.setenv("SURVEY_CALL_PHONE_CALLERS", "0")
    assert setting("SURVEY_CALL_PHONE_CALLERS", True) is False


def test_empty_is_unset_and_text_takes_the_defaults_type(monkeypatch):
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "")
    assert setting("OUTBOX_MAX_ATTEMPTS", 8, config={"OUTBOX_MAX_ATTEMPTS": ""}) == 8
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "12")
    assert setting("OUTBOX_MAX_ATTEMPTS", 8) == 12
    assert setting("WECHAT_APPID", config={"WECHAT_APPID": "wx0123"}) == "wx0123"


def test_a_number_that_is_not_one_names_the_setting(monkeypatch):
    monkeypatch.setenv("OUTBOX_MAX_ATTEMPTS", "many")
    with pytest.raises(ValueError, match="OUTBOX_MAX_ATTEMPTS"):
        setting("OUTBOX_MAX_ATTEMPTS", 8)

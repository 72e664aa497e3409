"""``query`` checks run only argv shapes that read the device: every refused form, every allowed one.

The allowlist is a table of exact argv shapes, not prefixes: ``wm size`` reads the screen size, while
``wm size 10x10`` changes it; ``dumpsys battery`` reads, ``dumpsys battery set level 1`` fakes a level.
Refused forms fail when the task file loads, so they never reach a device; allowed forms are run
against the virtual phone to show they answer and change nothing.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from pydantic import ValidationError

from guiagent.envs.android import AndroidEnv
from guiagent.tasks.checks import CheckContext, QueryCheck, evaluate
from tests.fixtures.phone import ConnectedPhone

REFUSED = [
    "wm size 10x10",
    "wm size reset",
    "wm density 100",
    "wm density reset",
    "wm user-rotation lock 1",
    "dumpsys battery set level 1",
    "dumpsys battery unplug",
    "dumpsys battery reset",
    "dumpsys deviceidle force-idle",
    "dumpsys window displays extra",
    "settings put global wifi_on 0",
    "settings delete global wifi_on",
    "settings get global",
    "settings get global wifi_on extra",
    "settings get nonsense wifi_on",
    "settings list",
    "content insert --uri content://settings/global --bind name:s:x --bind value:s:1",
    "content update --uri content://settings/global --bind value:s:1",
    "content delete --uri content://settings/global --where name='x'",
    "content call --uri content://settings --method PUT_global --arg wifi_on",
    "content query --uri content://x --bind name:s:x",
    "pm clear com.guiagent.notes",
    "pm list packages -x",
    "pm list packages a b",
    "pm path",
    "pm path a b",
    "getprop a b c",
    "getprop -Z",
    "cmd package install-existing com.x",
    "cmd package resolve-activity --user 0 --es k v com.x",
    "settings",
    "dumpsys -t 10 battery",
    "uiautomator dump /sdcard/x.xml",
    "screencap /sdcard/x.png",
    "input tap 1 1",
    "sh -c 'wm size 10x10'",
    "",
]

ALLOWED = [
    "settings get global wifi_on",
    "settings get --user 0 secure ui_night_mode",
    "settings get --user current system user_rotation",
    "settings list global",
    "getprop",
    "getprop ro.product.model",
    "dumpsys",
    "dumpsys battery",
    "dumpsys window displays",
    "dumpsys activity activities",
    "dumpsys package com.guiagent.notes",
    "content query --uri content://com.guiagent.notes/notes --projection text",
    "content query --uri content://sms/sent --where \"body='On my way'\" --projection address",
    "content query --uri content://com.android.contacts/contacts --where \"display_name='Zoe Chen'\" --projection starred",
    "pm list packages",
    "pm list packages -3 notes",
    "pm path com.guiagent.notes",
    "wm size",
    "wm density",
    "cmd package resolve-activity --brief com.guiagent.notes",
    "cmd package resolve-activity --brief -a android.intent.action.MAIN -c android.intent.category.LAUNCHER com.x",
]


@pytest.mark.parametrize("query", REFUSED)
def test_a_query_that_could_change_state_is_refused(query: str) -> None:
    with pytest.raises(ValidationError, match="not a read-only query"):
        QueryCheck(query=query, contains="x")
    with pytest.raises(ValidationError, match="not a read-only query"):
        QueryCheck(query=shlex.split(query), contains="x")  # the list form is held to the same shapes


@pytest.mark.parametrize("query", ALLOWED)
def test_a_read_only_query_is_allowed(query: str) -> None:
    check = QueryCheck(query=query, matches=".*")
    assert check.query == shlex.split(query)


def test_allowed_queries_answer_on_a_phone_and_change_nothing(virtual_phone: ConnectedPhone, adb_server) -> None:
    phone = virtual_phone.phone
    before = phone.state
    checks = [QueryCheck(query=query, matches=".*") for query in ALLOWED]
    with AndroidEnv(virtual_phone.serial, adb_port=adb_server.port) as env:
        results = evaluate(checks, CheckContext(env, None, Path(".")))  # type: ignore[arg-type]
    assert all(result.passed for result in results), [r for r in results if not r.passed]
    assert phone.state == before
    assert phone.state.display_size == (1080, 2400) and phone.density == 420


def test_the_refusal_says_what_is_allowed() -> None:
    with pytest.raises(ValidationError) as refused:
        QueryCheck(query="wm size 10x10", equals="1")
    message = str(refused.value)
    assert "'wm size 10x10' is not a read-only query" in message
    assert "wm size" in message and "settings get NAMESPACE KEY" in message

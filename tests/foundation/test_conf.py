"""``mozaiks_settings()``: built once, rebuilt when a setting changes."""

from mozaiks_core.conf import mozaiks_settings


def test_the_settings_view_is_built_once_and_follows_every_setting_change(settings):
    first = mozaiks_settings()
    assert mozaiks_settings() is first

    settings.MOZAIKS_WS_MAX_FRAME_BYTES = 1234
    changed = mozaiks_settings()

    assert changed is not first
    assert changed.ws_max_frame_bytes == 1234
    settings.MOZAIKS_WS_MAX_FRAME_BYTES = 4321
    assert mozaiks_settings().ws_max_frame_bytes == 4321


def test_a_test_that_changed_a_setting_leaves_the_default_behind():
    assert mozaiks_settings().ws_max_frame_bytes == 65536

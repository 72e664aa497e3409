"""The locator cache file (plain JSON that diffs line by line) and the patch checks that guard each locator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from guiagent.actions.errors import ConfigError
from guiagent.actions.geometry import Size
from guiagent.envs.hierarchy import UiNode
from guiagent.tasks.script.cache import PATCH_SIZE, RADII, CacheEntry, LocatorCache, NodeRef, Patch, cache_path_for
from guiagent.tasks.script.locate import node_at

SCREEN = (1080, 2400)


def screen_with(*boxes: tuple[int, int, int, int], text: tuple[int, int, str] | None = None) -> Image.Image:
    """A light screen with dark-bordered buttons and, optionally, a label."""
    image = Image.new("RGB", SCREEN, (248, 249, 251))
    draw = ImageDraw.Draw(image)
    for box in boxes:
        draw.rectangle(box, fill=(210, 225, 250), outline=(30, 30, 30), width=4)
    if text:
        x, y, label = text
        draw.text((x, y), label, fill=(0, 0, 0), font_size=48)
    return image


def entry(point: tuple[int, int], image: Image.Image, node: NodeRef | None = None) -> CacheEntry:
    return CacheEntry("the Save button", "<answer>", point, Size(*image.size), Patch.of(image, point), node)


def test_the_file_reads_back_and_changes_are_a_few_lines(tmp_path: Path) -> None:
    path = tmp_path / "flow.cache.json"
    image = screen_with((800, 100, 1040, 220), text=(860, 130, "Save"))
    node = NodeRef("app:id/save", "Save", "android.widget.Button", "", (800, 100, 1040, 220))
    cache = LocatorCache(path)
    cache.put("tap the Save button", entry((920, 160), image, node))
    cache.put("tap the Save button #2", entry((920, 160), image))
    assert cache.save() == path
    text = path.read_text(encoding="utf-8")
    assert json.loads(text)["version"] == 1
    loaded = LocatorCache.load(path)
    assert loaded.get("tap the Save button") == cache.get("tap the Save button")
    assert list(loaded.keys()) == ["tap the Save button", "tap the Save button #2"]
    lines = text.splitlines()
    rows = [line for line in lines if re.fullmatch(rf'\s*"[^"]{{{PATCH_SIZE}}}",?', line)]
    assert len(rows) == 2 * PATCH_SIZE  # each patch: a row of its picture per line
    assert any('"point": [920, 160]' in line for line in lines) and any(
        '"resource_id": "app:id/save"' in line for line in lines
    )

    moved = loaded.without_changes()
    assert moved.save() is None  # nothing changed: the file is left alone
    moved.put("tap the Save button", entry((920, 460), screen_with((800, 400, 1040, 520), text=(860, 430, "Save"))))
    moved.save()
    changed = [a for a, b in zip(lines, path.read_text(encoding="utf-8").splitlines(), strict=True) if a != b]
    assert 2 <= len(changed) <= PATCH_SIZE + 3  # the point, the time and the picture of the button
    assert moved.changes[0].describe().startswith("tap the Save button: (920, 160) on 1080x2400 → (920, 460)")


def test_a_damaged_cache_names_the_file_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "flow.cache.json"
    assert len(LocatorCache.load(path)) == 0  # no file yet: an empty cache
    path.write_text('{"version": 1, "entries": {"tap x": {"asked": "x"}}}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"flow.cache.json: entry 'tap x' is damaged"):
        LocatorCache.load(path)
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a locator cache"):
        LocatorCache.load(path)
    path.write_text('{"version": 7, "entries": {}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="version 7"):
        LocatorCache.load(path)
    assert cache_path_for("flows/notes.yaml") == Path("flows/notes.cache.json")


def test_a_blank_patch_grows_until_it_shows_edges_and_a_blank_one_is_featureless() -> None:
    field = screen_with((40, 300, 1040, 2300))  # a huge empty field: blank around its middle at every size
    assert Patch.of(field, (540, 1300)).featureless
    row = screen_with((0, 300, 1080, 510), text=(60, 340, "Bob Smith"))  # a row, tapped right of its text
    patch = Patch.of(row, (700, 405))
    assert patch.radius > RADII[0] and not patch.featureless


def test_difference_sees_a_changed_label_a_moved_button_and_vanished_rim_text() -> None:
    save = screen_with((800, 100, 1040, 220), text=(860, 130, "Save"))
    same = Patch.of(save, (920, 160))
    assert same.difference(Patch.of(save.copy(), (920, 160), same.radius)) == 0.0
    other_label = screen_with((800, 100, 1040, 220), text=(880, 130, "OK"))  # same button, other label
    assert same.difference(Patch.of(other_label, (920, 160), same.radius)) > 0.10
    moved = screen_with((800, 400, 1040, 520), text=(860, 430, "Save"))
    assert same.difference(Patch.of(moved, (920, 160), same.radius)) > 0.5
    row = screen_with((0, 300, 1080, 510), text=(60, 340, "Bob Smith"))
    rim = Patch.of(row, (700, 405))
    blank = Image.new("RGB", SCREEN, (248, 249, 251))
    assert rim.difference(Patch.of(blank, (700, 405), rim.radius)) == 1.0  # all it showed is gone


def test_points_scale_to_another_screen_size() -> None:
    image = screen_with((800, 100, 1040, 220))
    cached = entry((920, 160), image)
    assert cached.scaled_point(Size(1080, 2400)) == (920, 160)
    assert cached.scaled_point(Size(720, 1600)) == (613, 107)
    assert cached.scaled_point(Size(1, 1)) == (0, 0)
    small = image.resize((720, 1600), Image.Resampling.BOX)
    assert cached.patch.difference(Patch.of(small, (613, 107), cached.patch.radius)) <= 0.10


def test_the_node_a_tap_hits_is_the_one_drawn_on_top() -> None:
    def node(bounds: tuple[int, int, int, int], text: str = "", cls: str = "FrameLayout") -> UiNode:
        return UiNode(text, "", "", f"android.widget.{cls}", "app", bounds)

    window = node((0, 0, 1080, 2400))
    toolbar = node((0, 74, 1080, 242), cls="ViewGroup")
    save = node((807, 105, 1038, 210), "Save", "Button")
    icon = node((820, 120, 860, 190), cls="ImageView")
    scrim = node((0, 0, 1080, 2400))
    assert node_at([window, toolbar, save, icon], (840, 150)).text == "Save"  # the button, not its icon
    assert node_at([window, toolbar, save], (900, 150)).text == "Save"
    covered = node_at([window, toolbar, save, scrim], (900, 150))
    assert covered is not None and covered.text == "" and not covered.identifiable  # a dialog's scrim is on top

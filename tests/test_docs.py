"""The README stays a newcomer's page, and no page of the documentation points at a file that is not there."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)")  # markdown links and images, without an #anchor


def test_the_readme_is_at_most_20000_characters():
    assert len((ROOT / "README.md").read_text(encoding="utf-8")) <= 20_000


def test_the_readme_gives_the_two_quick_start_commands_ci_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/demo" in readme and "bash scripts/test" in readme
    assert "bash scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_relative_link_of_every_page_points_at_a_file():
    broken = [(page.relative_to(ROOT).as_posix(), target)
              for page in PAGES for target in LINK.findall(page.read_text(encoding="utf-8"))
              if "://" not in target and not (page.parent / target).exists()]
    assert not broken, broken


def test_the_link_finder_finds_links_and_images():
    assert LINK.findall("see [a](docs/a.md#x), ![b](images/b.png) and [c](https://e.org)") == \
        ["docs/a.md", "images/b.png", "https://e.org"]

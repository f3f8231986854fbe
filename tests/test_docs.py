"""The documentation: every relative link leads to a file (and a heading) that exists, the README
stays a five-minute read with its Quick start, and every setting the code reads is documented.

Fast and offline: it reads files only.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]
README_LIMIT = 12_000  # bytes

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
# [text](target) and ![alt](target); the target may be in <...> and may have a "title".
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def prose(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks (blank for the lines inside)."""
    lines, fence = [], ""
    for line in text.splitlines():
        match = _FENCE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            lines.append("")
        elif match:
            fence = match.group(1)
            lines.append("")
        else:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, without punctuation, spaces as hyphens."""
    text = _CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = re.sub(r"(\*\*|__|\*|~~)", "", text)  # emphasis markers (not single underscores in words)
    kept = "".join(
        c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LMN" or unicodedata.category(c) == "Pc"
    )
    return kept.replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every anchor GitHub gives the headings of a Markdown file, duplicates numbered as it does."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every link and image in a Markdown file, outside code."""
    found = []
    for number, line in enumerate(prose(path.read_text(encoding="utf-8")), start=1):
        for match in _LINK.finditer(_CODE_SPAN.sub("", line)):
            found.append((number, match.group(1).strip("<>")))
    return found


def relative(target: str) -> bool:
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def test_the_pages_are_found() -> None:
    names = {page.relative_to(ROOT).as_posix() for page in PAGES}
    assert {"README.md", "SECURITY.md", "docs/README.md", "docs/BENCHMARKS.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for number, target in links(page):
        if not relative(target):
            continue
        parts = urlsplit(target)
        destination = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        where = f"{page.relative_to(ROOT)}:{number}: {target}"
        if not destination.exists():
            broken.append(f"{where} (no such file)")
        elif not destination.is_relative_to(ROOT):
            broken.append(f"{where} (outside the repository)")
        elif parts.fragment and destination.suffix == ".md" and unquote(parts.fragment) not in anchors(destination):
            broken.append(f"{where} (no such heading in {destination.relative_to(ROOT)})")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_docs_page_is_linked_from_the_readme_and_the_index(page: Path) -> None:
    if page == README:
        return
    for index in (README, ROOT / "docs" / "README.md"):
        if page == index:
            continue
        targets = {(index.parent / urlsplit(t).path).resolve() for _, t in links(index) if relative(t)}
        assert page.resolve() in targets, f"{index.relative_to(ROOT)} does not link to {page.relative_to(ROOT)}"


def test_the_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size < README_LIMIT, f"README.md is {size} bytes; keep it under {README_LIMIT} and move detail to docs/"


def test_the_readme_has_the_quick_start_with_its_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    headings = {i: match.groups() for i, line in enumerate(prose(text)) if (match := _HEADING.match(line))}
    start = next((i for i, (level, title) in headings.items() if (level, title) == ("##", "Quick start")), None)
    assert start is not None, "README.md has no '## Quick start'"
    end = min((i for i in headings if i > start), default=len(text.splitlines()))
    section = "\n".join(text.splitlines()[start:end]) + "\n"
    blocks = re.findall(r"^```\w*\n(.*?)^```", section, re.M | re.S)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]


# Environment variables are named in the code as string literals: "SIGNUP_…", "COGNITO_…", "SECRET_KEY…".
_SETTING = re.compile(
    r"[\"'](SIGNUP_[A-Z0-9_]+|COGNITO_[A-Z0-9_]+|SECRET_KEY(?:_FALLBACKS)?|PORT|PROMETHEUS_MULTIPROC_DIR)[\"']"
)
_NOT_SETTINGS = {"SIGNUP_RATELIMIT_"}  # a prefix the code strips, not a variable


def test_every_environment_variable_the_code_reads_is_in_the_configuration_page() -> None:
    sources = [*sorted((ROOT / "app").rglob("*.py")), ROOT / "gunicorn.conf.py"]
    read = {name for source in sources for name in _SETTING.findall(source.read_text(encoding="utf-8"))}
    documented = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = sorted(name for name in read - _NOT_SETTINGS if f"`{name}`" not in documented)
    assert read, "no environment variable found in the code"
    assert not missing, f"not in docs/configuration.md: {', '.join(missing)}"


def test_every_metric_the_app_exports_is_in_the_operations_page() -> None:
    exported = re.findall(r'"(signup_[a-z_]+)"', (ROOT / "app" / "ops" / "metrics.py").read_text(encoding="utf-8"))
    documented = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert exported, "no metric found in app/ops/metrics.py"
    assert not [name for name in exported if f"`{name}`" not in documented]


def test_the_embed_snippet_is_the_one_the_local_demo_runs() -> None:
    """docs/embedding.md's snippet, with the app's address in it, is local/demo.html's, which the tests drive."""
    documented = re.search(r"^## Embed snippet$.*?^```html\n(.*?)^```$", read("docs/embedding.md"), re.M | re.S)
    assert documented, "docs/embedding.md has no html block under '## Embed snippet'"
    snippet = documented.group(1).replace("https://signup.example.com", "{app}")
    assert snippet in read("local/demo.html")


def read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Quick start", "quick-start"),
        ("`SIGNUP_SUCCESS_URL` inside a frame", "signup_success_url-inside-a-frame"),
        ("Rotating `SECRET_KEY`", "rotating-secret_key"),
        ("Posts come only from the app's own pages", "posts-come-only-from-the-apps-own-pages"),
        ("Libraries, and why", "libraries-and-why"),
        ("What travels from one step to the next", "what-travels-from-one-step-to-the-next"),
        ("Deploying on AWS & Kubernetes", "deploying-on-aws--kubernetes"),
        ("Über uns", "über-uns"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor

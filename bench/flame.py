"""py-spy's samples (collapsed stacks, `--format raw`) as rows of a cost table and as a flame graph (SVG).

A sample belongs to the first category any of its frames names, so the rows never overlap: a garbage
collection that starts inside a log call is garbage collection, a log call inside botocore is logging.
Thread hand-offs are told by the innermost frame alone: a lock released there wakes another thread.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("garbage collection", ("gc_collect",)),
    ("thread hand-offs (waking threads)", ("sem_post", "sem_wait", "pthread_cond", "futex", "take_gil")),
    ("request id", ("(uuid.py", "urandom")),
    ("logging", ("(logging/", "(app/ops/logs.py")),
    ("metrics", ("(prometheus_client/", "(app/ops/metrics.py")),
    ("session (Flask's cookie session)", ("(flask/sessions.py",)),
    ("security headers", ("(app/web/headers.py",)),
    ("sealed flow (Fernet)", ("(app/signup/flow.py", "(cryptography/")),
    ("form token (itsdangerous)", ("(itsdangerous/", "(app/signup/csrf.py")),
    ("TLS to Cognito", ("(ssl.py", "_ssl_", "libssl", "libcrypto")),
    ("Cognito call (botocore, urllib3)", ("(botocore/", "(urllib3/", "(boto3/", "(app/aws/cognito.py")),
    ("forms (WTForms)", ("(wtforms/", "(flask_wtf/", "(email_validator/", "(app/web/forms.py")),
    ("languages (Babel)", ("(flask_babel/", "(babel/", "(app/web/i18n.py")),
    (
        "templates (Jinja)",
        ("(jinja2/", "(markupsafe/", "(flask/templating.py", "(app/web/pages.py", "(macros.html", ".html:"),
    ),
    ("the app's views and steps", ("(app/",)),
    ("Flask and Werkzeug", ("(flask/", "(werkzeug/")),
    ("gunicorn: writing the response", ("Response.write (gunicorn", "Response.send_headers (gunicorn", "sendall")),
    ("gunicorn: parsing the request, WSGI environ", ("(gunicorn/http/",)),
    ("gunicorn: poll loop, hand-off to threads", ("(gunicorn/", "(concurrent/", "(threading.py", "(selectors.py")),
)
OTHER = "other"
# Colours of the flame graphs, by group of categories (anything else is grey).
GROUPS = (
    ("gunicorn", "#8fb3e0", ("gunicorn",)),
    ("Flask, Werkzeug", "#e0c56a", ("Flask",)),
    ("the page (forms, templates)", "#e39bc4", ("forms", "templates", "languages", "views")),
    ("Cognito, TLS, tokens", "#9fd08a", ("Cognito", "TLS", "token", "sealed")),
    ("logs, metrics, headers", "#f0a060", ("logging", "metrics", "request id", "headers", "session")),
    ("GC, thread hand-offs", "#e06c6c", ("garbage", "thread")),
)


def read(path: Path) -> Counter[tuple[str, ...]]:
    """Stacks (root first, without py-spy's per-process root frame) and their sample counts."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = tuple(frame for frame in stack.split(";") if not frame.startswith("process "))
            stacks[frames] += int(count)
    return stacks


def category(frames: tuple[str, ...]) -> str:
    for name, marks in CATEGORIES:
        looked_at = frames[-1:] if name.startswith("thread hand-offs") else frames
        if any(mark in frame for frame in looked_at for mark in marks):
            return name
    return OTHER


def split(stacks: Counter[tuple[str, ...]]) -> Counter[str]:
    """Samples by category."""
    totals: Counter[str] = Counter()
    for frames, count in stacks.items():
        totals[category(frames)] += count
    return totals


def _colour(frame: str) -> str:
    name = category((frame,))
    return next((colour for _, colour, marks in GROUPS if any(m in name for m in marks)), "#c9c9c9")


def svg(stacks: Counter[tuple[str, ...]], title: str, width: int = 1200, row: int = 16) -> str:
    """An icicle-style flame graph (callers above callees), each frame coloured by its category."""
    tree: dict[str, tuple[list[int], dict]] = {}  # type: ignore[type-arg]
    for frames, count in stacks.items():
        level = tree
        for frame in frames:
            node = level.setdefault(frame, ([0], {}))
            node[0][0] += count
            level = node[1]
    total = sum(stacks.values()) or 1
    scale = (width - 20) / total
    boxes: list[str] = []
    depth = 0

    def draw(level: dict, x: float, y: int) -> None:  # type: ignore[type-arg]
        nonlocal depth
        depth = max(depth, y)
        for frame, (count, children) in sorted(level.items()):
            w = count[0] * scale
            if w >= 0.5:
                label = html.escape(frame)
                text = html.escape(frame[: int(w / 7)]) if w > 21 else ""
                boxes.append(
                    f"<g><title>{label} ({count[0]} samples, {count[0] / total:.1%})</title>"
                    f'<rect x="{x:.1f}" y="{y * row + 30}" width="{w:.1f}" height="{row - 1}" fill="{_colour(frame)}"/>'
                    f'<text x="{x + 2:.1f}" y="{y * row + 42}">{text}</text></g>'
                )
                draw(children, x, y + 1)
            x += w

    draw(tree, 10, 0)
    height = (depth + 1) * row + 60
    legend = "".join(
        f'<rect x="{10 + 195 * n}" y="{height - 18}" width="10" height="10" fill="{colour}"/>'
        f'<text x="{24 + 195 * n}" y="{height - 9}">{html.escape(name)}</text>'
        for n, (name, colour, _) in enumerate(GROUPS)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" '
        f'font-size="11"><rect width="100%" height="100%" fill="white"/>'
        f'<text x="10" y="18" font-size="14">{html.escape(title)} ({total} samples; hover for a frame\'s share)</text>'
        + "".join(boxes)
        + legend
        + "</svg>\n"
    )

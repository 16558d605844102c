"""What the dashboard ships: the vendored scripts exactly as published (their versions, hashes
and licences recorded), under the page-weight budget, cached by content, and no page reaching
outside the app (the dashboard works offline)."""

import hashlib
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.ui.render import STATIC_DIR, static_index

VENDOR = STATIC_DIR / "vendor"
BUDGET_BYTES = 200 * 1024  # the bound for all JS + CSS, counted raw (no gzip credit)
EXTERNAL = re.compile(r"""(?:src|href|action|sse-connect|hx-get|hx-post)=["']?(?:https?:)?//""")


def test_the_vendored_files_are_the_published_ones_with_their_licences() -> None:
    manifest = json.loads((VENDOR / "vendor.json").read_text())
    assert {entry["package"] for entry in manifest} == {
        "htmx.org",
        "htmx-ext-sse",
        "sortablejs",
        "uplot",
    }
    for entry in manifest:
        folder = VENDOR / entry["folder"]
        assert (folder / "LICENSE").read_text().strip(), entry["package"]
        assert entry["license"] in {"0BSD", "MIT"}
        for name, file in entry["files"].items():
            digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            assert digest == file["sha256"], f"{entry['folder']}/{name} differs from its release"
        shipped = {p.name for p in folder.iterdir()} - {"LICENSE"}
        assert shipped == set(entry["files"]), "an unrecorded file in the vendor folder"


def shipped_bytes() -> int:
    return sum(
        len(data) for name, (data, _) in static_index().items() if name.endswith((".js", ".css"))
    )


def test_the_shipped_scripts_and_styles_stay_under_the_budget() -> None:
    total = shipped_bytes()
    on_disk = sum(p.stat().st_size for p in STATIC_DIR.rglob("*") if p.suffix in {".js", ".css"})
    assert total == on_disk  # everything on disk is served, nothing else
    assert total < BUDGET_BYTES, f"{total} bytes of JS and CSS"


def test_static_files_are_served_by_content_and_kept_a_year(admin_ui: TestClient) -> None:
    page = admin_ui.get("/ui/").text
    urls = re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', page)
    assert any("htmx.min.js" in url for url in urls)
    for url in urls:
        response = admin_ui.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        again = admin_ui.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
    assert admin_ui.get("/ui/static/../session.py").status_code == 404
    assert admin_ui.get("/ui/static/vendor/vendor.json").status_code == 404  # not a script


def test_static_files_need_no_session(stores: object) -> None:
    from api.app import create_app

    client = TestClient(create_app(stores))  # type: ignore[arg-type]
    assert client.get("/ui/static/app.js").status_code == 200


def test_no_page_or_script_reaches_outside_the_app(admin_ui: TestClient) -> None:
    page = admin_ui.get("/ui/").text
    login = TestClient(admin_ui.app).get("/ui/login").text
    for html in (page, login):
        assert not EXTERNAL.search(html)
    for path in Path(STATIC_DIR).glob("*.js"):
        assert "http://" not in path.read_text()
        assert "https://" not in path.read_text()

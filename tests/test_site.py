"""The static site in a real browser: Debian's chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from leaderboard.site import build_site
from leaderboard.submission import submit

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "leaderboard" / "submissions"
ARTIFACTS = Path(os.environ.get("OBENCH_TEST_ARTIFACTS", REPO / "test-artifacts"))
CHROMIUM = os.environ.get("OBENCH_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def site(model_run, tmp_path_factory, eval_sandbox):
    subs = tmp_path_factory.mktemp("subs")
    for d in SHIPPED.iterdir():
        if d.is_dir():
            shutil.copytree(d, subs / d.name)
    submit(model_run, "mock-model", org="Tests", paper="https://example.org/p", open_weights=True, root=subs)
    out = tmp_path_factory.mktemp("site")
    res = build_site(subs, out, sandbox=eval_sandbox)
    assert not res.rejected and len(res.entries) >= 4
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("browser-home")
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "TMPDIR"):
        os.environ[var] = str(home)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _watch(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    return errors


def _column(page, key: str) -> list[float]:
    idx = page.eval_on_selector(f'th[data-key="{key}"]', "th => Array.prototype.indexOf.call(th.parentNode.children, th)")
    return page.eval_on_selector_all("#leaderboard tbody tr",
                                     f"rows => rows.map(r => parseFloat(r.children[{idx}].getAttribute('data-value')))")


def test_index_sorts_and_entry_pages_load(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = _watch(page)
    page.goto((site / "index.html").as_uri())
    names = page.eval_on_selector_all("#leaderboard tbody tr", "rows => rows.map(r => r.dataset.name)")
    assert len(names) >= 4 and "mock-model" in names
    ranks = _column(page, "rank")
    assert ranks == sorted(ranks)
    page.click('th[data-key="auroc"]')
    auroc = _column(page, "auroc")
    assert auroc == sorted(auroc, reverse=True) and len(set(auroc)) > 1
    assert page.get_attribute('th[data-key="auroc"]', "aria-sort") == "descending"
    page.click('th[data-key="auroc"]')
    assert _column(page, "auroc") == sorted(auroc)
    page.click('th[data-key="false_alarm_rate"]')
    fa = _column(page, "false_alarm_rate")
    assert fa == sorted(fa, reverse=True) and fa[0] == 1.0  # always-buggy flags everything
    assert "content hash" in page.inner_text("#bibtex")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "leaderboard-index.png"), full_page=True)
    page.click('#leaderboard tr[data-name="mock-model"] a[href="entries/mock-model.html"]')
    page.wait_for_load_state("load")
    assert page.url.endswith("entries/mock-model.html")
    images = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
    assert len(images) == 3 and all(done and width > 0 for _, done, width in images), images
    assert "catch@5%fpr" in page.inner_text("#metrics") and "sha256:" in page.content()
    page.screenshot(path=str(ARTIFACTS / "leaderboard-entry.png"), full_page=True)
    page.go_back()
    page.wait_for_load_state("load")
    overview = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
    assert overview and all(w > 0 for w in overview)
    for view, marker in (("generators.html", "Evasion"), ("protocols.html", "OGR"), ("w2s.html", "PGR")):
        page.goto((site / view).as_uri())
        page.wait_for_load_state("load")
        assert marker.lower() in page.content().lower(), view
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert all(w > 0 for w in widths), (view, widths)
        page.screenshot(path=str(ARTIFACTS / f"leaderboard-{view.replace('.html', '')}.png"), full_page=True)
    assert errors == []

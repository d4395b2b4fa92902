"""The built documentation site in headless Chromium: the home page, the syllabus and a notebook page
render their title, their figures and their math, served from localhost with nothing fetched elsewhere.

Needs `make docs` first and Debian's chromium and chromium-driver; `make docs-test` does both steps,
CI runs it. Marked `docs`, out of the default suite. The planted pages (a notebook page without the
MathJax script, one with a broken figure, one that loads a script from a CDN) show each check failing.
"""

import functools
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.docs

SITE = Path(__file__).resolve().parents[2] / "site"
NOTEBOOK_PAGE = "course/01_relaxed_smoothness/index.html"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")

# What the page shows once MathJax has typeset it (MathJax.startup.promise), as seen in the browser.
REPORT = r"""
const done = arguments[arguments.length - 1];
function report() {
  const article = document.querySelector("article");
  const bare = article.cloneNode(true);
  bare.querySelectorAll("mjx-container, code, pre, script, style, .clipboard-copy-txt").forEach(e => e.remove());
  const external = [...document.querySelectorAll("script[src], img[src], link[rel=stylesheet][href]")]
    .map(e => e.src || e.href).filter(u => !u.startsWith(location.origin) && !u.startsWith("data:"));
  return {
    title: document.title,
    h1: (article.querySelector("h1") || {textContent: ""}).textContent,
    math: article.querySelectorAll("mjx-container").length,
    math_errors: article.querySelectorAll("mjx-merror").length,
    raw_math: (bare.textContent.match(/\$[^$\n]+\$|\\\(|\\\[/g) || []).length,
    images: [...article.querySelectorAll("img")].map(i => ({src: i.src.slice(0, 40), complete: i.complete,
                                                         width: i.naturalWidth})),
    external: external,
    nav: [...document.querySelectorAll("nav a")].map(a => a.getAttribute("href")),
  };
}
// Wait for the whole page (images tried) and, on a page that loads MathJax, for MathJax itself to define its
// startup promise: the script may still be loading when the page's load event has fired.
const hasMathJax = !!document.querySelector('script[src*="tex-chtml"]');
const deadline = Date.now() + 30000;
function ready() {
  return document.readyState === "complete"
    && (!hasMathJax || !!(window.MathJax && MathJax.startup && MathJax.startup.promise));
}
function wait() {
  if (!ready() && Date.now() < deadline) { setTimeout(wait, 50); return; }
  if (hasMathJax && ready()) {
    MathJax.startup.promise.then(() => done(report()), err => done({error: String(err)}));
  } else {
    done(report());
  }
}
wait();
"""


def problems(page: dict, *, title: str, figures: bool, math: bool) -> list[str]:
    """What is wrong with a rendered page; [] when it shows its title, figures and math, all local."""
    found = []
    if "error" in page:
        return [f"MathJax failed: {page['error']}"]
    if not page["title"].startswith(title):
        found.append(f"title {page['title']!r} does not start with {title!r}")
    broken = [i for i in page["images"] if not (i["complete"] and i["width"] > 0)]
    if broken:
        found.append(f"images that did not load: {broken}")
    if figures and not page["images"]:
        found.append("no figure")
    if math and page["math"] == 0:
        found.append("no typeset math")
    if page["raw_math"]:
        found.append(f"{page['raw_math']} formulas left as TeX")
    if page["math_errors"]:
        found.append(f"{page['math_errors']} MathJax errors")
    if page["external"]:
        found.append(f"fetched from elsewhere: {page['external']}")
    return found


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    """A copy of site/ (the planted pages go beside the real ones) served on 127.0.0.1."""
    if not (SITE / "index.html").exists():
        pytest.fail("site/ is not built: run `make docs` first")
    root = tmp_path_factory.mktemp("site") / "site"
    shutil.copytree(SITE, root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver")
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).exists():
            pytest.fail(f"{program} is missing: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(60)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def render(browser, served_site, page: str) -> dict:
    browser.get(served_site[1] + page)
    return browser.execute_async_script(REPORT)


def notebook_title() -> str:
    html = (SITE / NOTEBOOK_PAGE).read_text()
    return re.search(r"<title>(.*?) - ubo</title>", html).group(1)


def test_home_page(browser, served_site):
    page = render(browser, served_site, "index.html")
    assert problems(page, title="ubo", figures=False, math=False) == []
    assert "bilevel optimization under unbounded smoothness" in page["h1"]
    assert any(href and href.startswith("course/") for href in page["nav"])
    assert any(href and href.startswith("api/") for href in page["nav"])


def test_syllabus_typesets_its_math(browser, served_site):
    page = render(browser, served_site, "course/index.html")
    assert problems(page, title="Syllabus", figures=False, math=True) == []


def test_notebook_page_shows_title_figures_and_math(browser, served_site):
    page = render(browser, served_site, NOTEBOOK_PAGE)
    assert problems(page, title=notebook_title(), figures=True, math=True) == []
    assert notebook_title().startswith("1. Relaxed smoothness")
    assert len(page["images"]) >= 2 and page["math"] >= 10


def plant(served_site, name: str, change) -> str:
    """A broken copy of the notebook page beside it (same relative asset paths); returns its path."""
    root, _ = served_site
    html = change((root / NOTEBOOK_PAGE).read_text())
    planted = Path(NOTEBOOK_PAGE).parent / f"planted-{name}.html"
    (root / planted).write_text(html)
    return str(planted)


def test_planted_page_without_mathjax_fails(browser, served_site):
    page_path = plant(served_site, "no-mathjax", lambda h: re.sub(r'<script src="[^"]*tex-chtml\.js"></script>', "", h))
    found = problems(render(browser, served_site, page_path), title=notebook_title(), figures=True, math=True)
    assert "no typeset math" in found and any("left as TeX" in p for p in found)


def test_planted_broken_figure_fails(browser, served_site):
    page_path = plant(served_site, "broken-figure",
                      lambda h: re.sub(r'(<img [^>]*src=")data:image/png;base64,[^"]*"', r'\1missing.png"', h, count=1))
    found = problems(render(browser, served_site, page_path), title=notebook_title(), figures=True, math=True)
    assert any(p.startswith("images that did not load") for p in found)


def test_planted_cdn_script_fails(browser, served_site):
    cdn = '<script src="https://cdn.invalid/mathjax/tex-chtml.js"></script>'
    page_path = plant(served_site, "cdn", lambda h: h.replace("</head>", cdn + "</head>", 1))
    found = problems(render(browser, served_site, page_path), title=notebook_title(), figures=True, math=True)
    assert any(p.startswith("fetched from elsewhere") for p in found)

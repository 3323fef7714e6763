"""``newsbeam report``: one self-contained page, checked in a real browser.

The browser is the system's Chromium (Debian package ``chromium``, which
``.ci/run`` installs when missing), driven by Playwright without a browser
download of its own. The page is opened from a file URL with every other
request refused and recorded.
"""

import re
import shutil
import statistics

import pytest

from newsbeam.pipeline.cli import main
from newsbeam.pipeline.report import Filters, build_report
from newsbeam.pipeline.views import connect
from tests.pipeline.sample_warehouse import SAMPLE, write_sample

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHARTS = {"per_day", "sources", "entities", "entities_by_theme", "stories", "story_timelines",
          "duplicate_share", "errors", "date_sources"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return str(write_sample(tmp_path_factory.mktemp("sample")))


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox"])
        yield browser
        browser.close()


class Loaded:
    def __init__(self, page, requests, problems, png):
        self.page, self.requests, self.problems, self.png = page, requests, problems, png

    def number(self, key: str) -> int:
        return int(self.page.inner_text(f"[data-key={key}]").replace(",", ""))


def open_offline(browser, path, screenshot) -> Loaded:
    """Open ``path`` with the network cut: any request other than the page itself is
    aborted and recorded. Console errors and page errors are collected."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, offline=True)
    requests, problems = [], []

    def route(r):
        requests.append(r.request.url)
        r.continue_() if r.request.url == f"file://{path}" else r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(f"file://{path}", wait_until="load")
    page.screenshot(path=str(screenshot), full_page=True)
    return Loaded(page, requests, problems, screenshot)


def pixel_spread(png) -> float:
    """Standard deviation of the screenshot's grey levels: 0 for a blank page."""
    from PIL import Image  # a dependency of apache-beam

    with Image.open(png) as image:
        grey = image.convert("L").resize((200, 400))
        return statistics.pstdev(grey.getdata())


def write_page(tmp_path, warehouse, *args) -> str:
    out = tmp_path / "report.html"
    assert main(["report", warehouse, "--out", str(out), *args]) == 0
    return str(out)


def test_the_page_renders_offline_with_every_chart_and_duckdbs_numbers(
        sample, browser, tmp_path):
    loaded = open_offline(browser, write_page(tmp_path, sample), tmp_path / "report.png")
    assert loaded.requests == [f"file://{tmp_path}/report.html"]  # nothing else asked for
    assert loaded.problems == []
    assert pixel_spread(loaded.png) > 20
    charts = loaded.page.eval_on_selector_all("[data-chart]",
                                              "els => els.map(e => e.dataset.chart)")
    assert set(charts) == CHARTS and len(charts) == len(CHARTS)
    assert loaded.page.locator("[data-chart] svg").count() == len(CHARTS)
    con = connect(sample)
    for key, sql in {
        "articles": "SELECT count(*) FROM articles",
        "errors": "SELECT count(*) FROM errors",
        "duplicates": "SELECT count(*) FROM duplicates",
        "ingested_date": "SELECT count(*) FROM articles WHERE date_source = 'ingested'",
        "stories": "SELECT count(*) FROM stories WHERE merged_into IS NULL",
        "dates": "SELECT count(DISTINCT date) FROM articles",
    }.items():
        assert loaded.number(key) == con.execute(sql).fetchone()[0], key
    assert loaded.number("articles") == SAMPLE["articles"]
    # the biggest story counts the story merged into it: s1 has a01, a02, a04 and s3's a08
    stories_svg = loaded.page.inner_html("[data-chart=stories]")
    assert "Headline a01" in stories_svg and "Headline a05" in stories_svg
    text = loaded.page.inner_text("#date_sources")
    assert "3 of 12 articles had no publication date" in text


def test_without_stories_or_errors_the_page_says_so(sample, browser, tmp_path):
    bare = write_sample(tmp_path / "w", stories=False)
    shutil.rmtree(bare / "errors")
    loaded = open_offline(browser, write_page(tmp_path, str(bare)), tmp_path / "bare.png")
    assert loaded.problems == [] and pixel_spread(loaded.png) > 20
    empty = loaded.page.eval_on_selector_all("[data-empty]", "els => els.map(e => e.dataset.empty)")
    assert set(empty) == {"stories", "story_timelines", "errors"}
    assert loaded.page.locator("[data-chart]").count() == len(CHARTS) - 3
    assert "No stories yet" in loaded.page.inner_text("#stories")
    assert (loaded.number("stories"), loaded.number("errors")) == (0, 0)


def test_an_empty_warehouse_gives_a_page_of_empty_states(tmp_path):
    html = build_report(str(tmp_path))
    assert html.count("data-empty=") == len(CHARTS) and "data-chart=" not in html
    assert re.search(r'data-key="articles">0<', html)


def test_filters_select_by_date_and_theme(sample, tmp_path):
    html = build_report(sample, Filters(since="2026-11-02", until="2026-11-03",
                                        theme="politics"))
    con = connect(sample)
    articles = con.execute("SELECT count(*) FROM articles WHERE date BETWEEN '2026-11-02' AND "
                           "'2026-11-03' AND list_contains(themes, 'politics')").fetchone()[0]
    errors = con.execute("SELECT count(*) FROM errors WHERE CAST(\"at\" AS DATE) >= '2026-11-02'"
                         ).fetchone()[0]
    assert (articles, errors) == (4, 3)
    assert f'data-key="articles">{articles}<' in html
    assert f'data-key="errors">{errors}<' in html
    assert "Selection: dates 2026-11-02 to 2026-11-03, theme politics." in html


def test_the_page_holds_no_script_and_links_nothing(sample):
    html = build_report(sample)
    assert re.findall(r"<script[^>]*>", html) == [
        '<script type="application/json" id="newsbeam-figures">']
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


def test_unusable_arguments(sample, tmp_path, capsys):
    assert main(["report", sample, "--out", str(tmp_path / "r.html"), "--since", "yesterday"]) == 2
    assert "not a date (YYYY-MM-DD): yesterday" in capsys.readouterr().err
    assert main(["report", sample]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "none"), "--out", str(tmp_path / "r.html")]) == 2


def _fails(argv, capsys) -> str:
    """Run ``newsbeam report ARGV``: it must exit 2 with one line on stderr, and write
    nothing; returns that line."""
    assert main(["report", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("\n") and err.count("\n") == 1, err
    return err.rstrip("\n")


@pytest.mark.parametrize("theme,line", [
    ("politcs", "newsbeam: error: no article has theme 'politcs' — did you mean 'politics'?"),
    ("Sport", "newsbeam: error: no article has theme 'Sport' — did you mean 'sport'?"),
    # one of the lexicon's IPTC slugs: said so, no suggestion
    ("weather", ("newsbeam: error: no article has theme 'weather': it is one of newsbeam's "
                "themes, but no article of this warehouse was given it")),
    ("xyzzy", ("newsbeam: error: no article has theme 'xyzzy'; its articles' themes: "
              "economy, politics, society, sport")),
])
def test_a_theme_no_article_has_is_an_error(sample, tmp_path, capsys, theme, line):
    out = tmp_path / "r.html"
    assert _fails([sample, "--out", str(out), "--theme", theme], capsys) == line
    assert not out.exists()


def test_a_theme_on_an_empty_warehouse(tmp_path, capsys):
    assert _fails([str(tmp_path), "--out", str(tmp_path / "r.html"), "--theme", "politcs"],
                  capsys) == ("newsbeam: error: no article has theme 'politcs': the warehouse "
                              "has no articles")


def test_a_second_theme_selects_too(sample, tmp_path):
    # "society" is every sample article's second theme, never the partition theme
    html = build_report(sample, Filters(theme="society"))
    assert f'data-key="articles">{SAMPLE["articles"]}<' in html


def test_since_after_until_is_an_error(sample, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert _fails([sample, "--out", str(out), "--since", "2026-11-03", "--until", "2026-11-01"],
                  capsys) == ("newsbeam: error: --since 2026-11-03 is after --until 2026-11-01: "
                              "no day is in that range")
    assert not out.exists()
    # one day is a range
    assert main(["report", sample, "--out", str(out), "--since", "2026-11-02",
                 "--until", "2026-11-02"]) == 0


def empty_states(path) -> dict[str, str]:
    with open(path, encoding="utf-8") as handle:
        return dict(re.findall(r'data-empty="(\w+)">([^<]*)<', handle.read()))


def test_an_empty_selection_says_so_and_names_the_filters(sample, tmp_path):
    empty = empty_states(write_page(tmp_path, sample, "--since", "2026-12-01"))
    assert set(empty) == CHARTS
    assert empty["stories"] == "No stories in the selection (dates 2026-12-01 to …)."
    assert empty["per_day"] == "No articles in the selection (dates 2026-12-01 to …)."
    assert empty["errors"] == "No errors in the selection (dates 2026-12-01 to …)."
    assert not any("yet" in text for text in empty.values())


def test_a_selection_without_stories_says_so_and_names_the_filters(sample, tmp_path):
    # sport on 2 November: one article (a07), no story, no duplicate
    empty = empty_states(write_page(tmp_path, sample, "--theme", "sport",
                                    "--since", "2026-11-02", "--until", "2026-11-02"))
    selection = "(dates 2026-11-02 to 2026-11-02, theme sport)."
    assert empty == {"stories": f"No stories in the selection {selection}",
                     "story_timelines": f"No stories in the selection {selection}",
                     "duplicate_share": f"No duplicates in the selection {selection}"}


def test_a_warehouse_without_stories_keeps_saying_so_under_filters(tmp_path):
    bare = write_sample(tmp_path / "w", stories=False)
    shutil.rmtree(bare / "errors")
    empty = empty_states(write_page(tmp_path, str(bare), "--theme", "sport"))
    assert empty == {
        "stories": "No stories yet: this warehouse was written before stories were assigned, "
                   "or no article has a story.",
        "story_timelines": "No story timelines yet.",
        "errors": "No errors in the selection.",  # --theme does not apply to errors
        "duplicate_share": "No duplicates in the selection (theme sport).",
    }


def test_the_harness_sees_requests_and_errors_a_bad_page_would_make(browser, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="https://example.org/x.png">'
                   '<script>console.error("boom")</script></body></html>')
    loaded = open_offline(browser, str(bad), tmp_path / "bad.png")
    assert "https://example.org/x.png" in loaded.requests
    assert "boom" in loaded.problems
    assert pixel_spread(loaded.png) < 1  # a blank page

"""``newsbeam explain FILE``: each paragraph's fate and the rule that decided it."""

import gzip
import json
import subprocess
import sys

import pytest

from newsbeam.pipeline.cli import main
from tests import REPO, SEEDS

SEED = SEEDS / "000_486ac41e4a4fe722.txt"


def explain(path, capsys) -> list[str]:
    assert main(["explain", str(path)]) == 0
    return capsys.readouterr().out.splitlines()


def fate(lines: list[str], text: str) -> str:
    """The label printed before the line holding ``text``."""
    (line,) = [ln for ln in lines if text in ln and not ln.startswith(("headline:", "file:"))]
    return line.split("  ")[0].strip()


def test_a_seed_line_by_line(capsys):
    lines = explain(SEED, capsys)
    assert lines[0] == f"{SEED.as_uri()}  (text)"
    assert lines[1].startswith("HEAD  ") and "North Korean Troops Are In Russia" in lines[1]
    assert lines[2].startswith("DROP repeated  ")  # the headline again
    assert fate(lines, "The Biden administration on Wednesday") == "KEEP"
    assert fate(lines, "Leave a review") == "DROP boilerplate"
    assert fate(lines, "Activist Nijat Ibrahim") == "DROP off_topic"
    labels = [ln.split("  ")[0] for ln in lines[1:] if not ln.startswith(("headline:", "language:",
                                                                           "kept:", "verdict:"))]
    assert labels.index("KEEP") < labels.index("DROP boilerplate")  # input order
    assert lines[-4:] == [
        ("headline: U.S. Confirms: North Korean Troops Are In Russia, Possibly To Help Fight "
         "Ukraine"),
        "language: en",
        "kept: 294 of 526 words, kept_ratio 0.56",
        "verdict: row (text_source file, 281 words; deduplication and tagging come next)",
    ]


def test_a_crafted_file_with_every_kind_of_verdict(tmp_path, capsys):
    path = tmp_path / "harbour.txt"
    kept = "The council of Port Ellery voted on Tuesday to rebuild the sea wall that failed."
    path.write_text("News\nHarbour town votes to rebuild its flooded sea wall\n"
                    f"Photo: Reuters\n{kept}\nShare this\n", encoding="utf-8")
    lines = explain(path, capsys)
    assert [ln.split("  ")[0] for ln in lines[1:6]] == [
        "DROP nav", "HEAD", "DROP boilerplate", "KEEP", "DROP boilerplate"]
    assert lines[4].endswith(kept)
    assert lines[-1] == "verdict: error clean:too_short (15 words < 20)"
    assert "kept:" not in "\n".join(lines)


def test_json_records_each_and_read_errors(tmp_path, capsys):
    path = tmp_path / "records.json.gz"
    body = ("The council of Port Ellery voted on Tuesday to rebuild the sea wall that failed "
            "during the winter storms, after a debate that lasted well into the night.")
    path.write_bytes(gzip.compress(json.dumps([{"title": "Sea wall vote", "text": body},
                                               {"title": "no text"}]).encode()))
    lines = explain(path, capsys)
    assert lines[0] == f"{path.as_uri()}#L1  (json)"
    assert lines[1] == f"KEEP  {body}"
    assert "headline: Sea wall vote" in lines and "kept: 31 of 31 words, kept_ratio 1.00" in lines
    assert lines[-2:] == [
        f"{path}#L2", "verdict: error read:missing_text (record has no non-empty string 'text')"]


def test_a_page_names_what_trafilatura_left_out(capsys):
    lines = explain(REPO / "tests" / "fixtures" / "article.html", capsys)
    assert lines[0].endswith("article.html  (html)")
    assert fate(lines, "Sign up for our daily newsletter") == "DROP boilerplate"
    assert fate(lines, "The council will publish the tender in April") == "KEEP"
    assert any(ln.startswith("not listed: what trafilatura left out of the page") for ln in lines)
    assert lines[-1].startswith("verdict: row (text_source page")


def test_unusable_arguments(tmp_path, capsys):
    assert main(["explain", str(tmp_path / "missing.txt")]) == 2
    assert "input not found" in capsys.readouterr().err
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "b.txt").write_text("two")
    assert main(["explain", str(tmp_path)]) == 2
    assert "explain takes one file" in capsys.readouterr().err


@pytest.mark.slow  # a real process: Beam's imports take seconds
def test_the_installed_command():
    done = subprocess.run([sys.executable, "-m", "newsbeam.pipeline.cli", "explain", str(SEED)],
                          capture_output=True, text=True, timeout=120, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    assert "DROP boilerplate  Leave a review" in done.stdout
    assert done.stdout.rstrip().endswith("deduplication and tagging come next)")

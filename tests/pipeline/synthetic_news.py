"""A deterministic corpus of synthetic news inputs for runner-equivalence tests.

The texts are written here (no third-party corpus is copied into the repo).
Articles are composed from per-topic sentence templates with seeded choices, so
the same ``seed`` and ``count`` always give byte-identical files. The corpus
mixes every input kind the backfill reads, plus inputs that must end as
duplicates or errors, so that comparing two warehouses compares all three
tables, not just the happy path.
"""

from __future__ import annotations

import gzip
import html
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

PEOPLE = ["Maria Keller", "Tomas Novak", "Aisha Rahman", "David Okoye", "Lena Petrova",
          "Kenji Watanabe", "Sofia Moreno", "Peter Lindqvist", "Grace Mensah", "Omar Haddad",
          "Julia Brandt", "Rafael Costa", "Ingrid Solberg", "Samuel Adeyemi", "Hana Kim"]
PLACES = ["Lisbon", "Nairobi", "Warsaw", "Osaka", "Toronto", "Lyon", "Rotterdam", "Krakow",
          "Accra", "Valencia", "Bergen", "Porto", "Tampere", "Cork", "Graz", "Leipzig"]
ORGS = ["the city council", "the regional health authority", "the national statistics office",
        "the transport ministry", "the central bank", "the university hospital",
        "the port authority", "the football federation", "the energy regulator",
        "the teachers' union", "the met office", "the court of appeal"]

TOPICS: dict[str, dict[str, list[str]]] = {
    "economy": {
        "headline": ["{place} factory orders rise for a {nth} month",
                     "Inflation in {place} slows to {pct} per cent",
                     "{org_t} holds interest rates as growth stalls"],
        "sentences": [
            "Orders at manufacturers in {place} rose {pct} per cent in {month}, according to {org}.",
            "Economists had expected a smaller increase after a weak start to the year.",
            "{person}, chief economist at a local bank, said the figures pointed to a slow recovery.",
            "Exporters benefited from a weaker currency, while domestic demand stayed flat.",
            "Consumer prices rose {pct} per cent over the year, down from {pct2} per cent a month earlier.",
            "Energy and food costs remained the main drivers of inflation.",
            "Retail sales in {place} fell for the third month in a row as households cut spending.",
            "The board voted to keep its main rate unchanged at {pct} per cent.",
            "Shares in regional lenders fell after the announcement, while bond yields edged lower.",
            "Unemployment stayed at {pct2} per cent, the lowest level since records began in {year}.",
        ],
    },
    "sport": {
        "headline": ["{place} clinch late win in cup quarter-final",
                     "{person} breaks national record in {place}",
                     "Coach {person} signs new three-year contract"],
        "sentences": [
            "{place} scored twice in the final ten minutes to win {score} in front of {num} supporters.",
            "The visitors had led at half-time after a well-worked goal from a corner.",
            "{person} said the team never stopped believing, even when they were a goal down.",
            "The win sets up a semi-final against the defending champions next month.",
            "{person} finished the 400 metres in a time that beat a record set in {year}.",
            "The crowd in {place} rose to applaud as the time flashed up on the screen.",
            "Officials from {org} confirmed the result after a routine review.",
            "The club said the new contract rewarded two seasons of steady progress.",
            "Injuries to two defenders had forced several changes to the starting line-up.",
            "Tickets for the next home match sold out within an hour of going on sale.",
        ],
    },
    "health": {
        "headline": ["Hospital waiting lists in {place} fall for first time in {num2} years",
                     "New clinic opens to ease pressure on {place} emergency wards",
                     "{org_t} warns of early flu season"],
        "sentences": [
            "The number of patients waiting more than a year for treatment fell by {pct} per cent.",
            "{person}, a senior nurse at {org}, said extra weekend shifts had made the difference.",
            "The clinic will treat minor injuries so that emergency doctors can focus on serious cases.",
            "Doctors urged older people and pregnant women to get vaccinated before winter.",
            "Flu cases in {place} doubled in the past fortnight, according to {org}.",
            "The health authority said it would publish waiting times every month from now on.",
            "Patients' groups welcomed the figures but said many still faced long delays for surgery.",
            "A pilot scheme lets pharmacists prescribe some antibiotics without a doctor's visit.",
            "The new building has {num2} treatment rooms and a small diagnostic laboratory.",
            "Staff shortages remain the biggest obstacle to cutting waiting times further.",
        ],
    },
    "weather": {
        "headline": ["Storm brings heavy rain and flooding to {place}",
                     "Heatwave warning issued for {place} as temperatures climb",
                     "First snow of the season closes mountain roads near {place}"],
        "sentences": [
            "Forecasters at {org} said up to {num2}0 millimetres of rain could fall in a day.",
            "Several roads near {place} were closed and trains were delayed by fallen trees.",
            "Temperatures are expected to reach {num2} degrees by the weekend.",
            "{person}, a forecaster, advised residents to drink water and avoid the midday sun.",
            "Snow ploughs worked through the night to clear the main pass.",
            "Emergency services rescued two drivers whose cars were stuck in flood water.",
            "The warning covers the whole coast and is expected to last until {month}.",
            "Farmers said the dry spell had already damaged the early harvest.",
            "Schools in two districts stayed closed as a precaution.",
            "Power was restored to most homes by the evening, the grid operator said.",
        ],
    },
    "technology": {
        "headline": ["{place} start-up raises funds for battery recycling plant",
                     "Researchers in {place} unveil faster chip for phones",
                     "{org_t} launches free public wifi across {place}"],
        "sentences": [
            "The company, founded by {person} in {year}, recovers lithium and cobalt from old batteries.",
            "Investors put {num} million euros into the firm in its latest funding round.",
            "The chip uses {pct} per cent less power than the previous generation, the team said.",
            "{person}, who led the research, said the design could reach phones within two years.",
            "The network will cover parks, libraries and the main bus station.",
            "Privacy campaigners asked how data about users' locations would be stored.",
            "Engineers tested the system for six months before the public launch.",
            "The plant is expected to employ {num} people when it opens next year.",
            "Rival firms in {place} are working on similar designs.",
            "The software behind the system will be published under an open licence.",
        ],
    },
    "culture": {
        "headline": ["{place} film festival opens with debut by {person}",
                     "Museum in {place} returns paintings to their owners' heirs",
                     "Orchestra plans free summer concerts in {place}"],
        "sentences": [
            "The festival will show {num2}0 films from {num2} countries over ten days.",
            "{person}'s first feature follows a family of fishermen through one hard winter.",
            "The paintings were taken from a private collection in {year} and later sold at auction.",
            "Curators spent three years tracing the history of each work.",
            "The concerts will take place in parks across {place} every Sunday in {month}.",
            "Tickets are free, but the orchestra asks visitors to register online.",
            "Critics praised the opening film for its quiet, patient camera work.",
            "{org_t} said the return of the works was long overdue.",
            "The programme mixes well-known symphonies with pieces by young local composers.",
            "Organisers expect more than {num} visitors over the opening weekend.",
        ],
    },
}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


_VOCABULARY = sorted({w.strip(".,'").lower()
                      for topic in TOPICS.values() for line in topic["sentences"]
                      for w in line.split() if w.isalpha() and len(w) > 2})


@dataclass
class Corpus:
    """What was written, so a test can state its expectations."""

    root: Path
    articles: list[str] = field(default_factory=list)  # relative paths of distinct articles
    exact_copies: list[tuple[str, str]] = field(default_factory=list)  # (original, copy)
    bad: dict[str, str] = field(default_factory=dict)  # relative path -> expected read error


def _fill(template: str, rng: random.Random) -> str:
    org = rng.choice(ORGS)
    return template.format(
        place=rng.choice(PLACES), person=rng.choice(PEOPLE), org=org,
        org_t=org[0].upper() + org[1:], pct=f"{rng.randint(1, 9)}.{rng.randint(0, 9)}",
        pct2=f"{rng.randint(1, 9)}.{rng.randint(0, 9)}", month=rng.choice(MONTHS),
        year=rng.randint(1975, 2023), num=rng.randint(120, 9800), num2=rng.randint(2, 9),
        nth=rng.choice(["second", "third", "fourth", "fifth"]),
        score=f"{rng.randint(2, 4)}-{rng.randint(0, 1)}")


def article(rng: random.Random, index: int) -> tuple[str, list[str], str]:
    """(headline, paragraphs, ISO publication time) of one synthetic article."""
    topic = TOPICS[sorted(TOPICS)[index % len(TOPICS)]]
    headline = _fill(rng.choice(topic["headline"]), rng)
    paragraphs = []
    for _ in range(rng.randint(3, 6)):
        sentences = rng.sample(topic["sentences"], rng.randint(2, 3))
        paragraphs.append(" ".join(_fill(s, rng) for s in sentences))
    # Templates alone make same-topic articles near-duplicates of each other (word
    # 3-shingle Jaccard well above the dedup threshold); a paragraph of words
    # drawn at random gives every body enough shingles of its own to stay distinct.
    for _ in range(2):
        words = rng.choices(_VOCABULARY, k=rng.randint(40, 60))
        paragraphs.append(words[0].capitalize() + " " + " ".join(words[1:]) + ".")
    paragraphs.append(f"This is report number {index} in the series, filed by "
                      f"{rng.choice(PEOPLE)} from {rng.choice(PLACES)}.")
    published = f"2024-{1 + index % 12:02d}-{1 + index % 28:02d}T{index % 24:02d}:15:00+00:00"
    return headline, paragraphs, published


def _html(headline: str, paragraphs: list[str], published: str, url: str) -> str:
    body = "\n".join(f"      <p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{html.escape(headline)} | Example News</title>
    <link rel="canonical" href="{url}">
    <meta property="og:url" content="{url}">
    <meta property="article:published_time" content="{published}">
  </head>
  <body>
    <nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
    <article>
      <h1>{html.escape(headline)}</h1>
{body}
    </article>
    <footer>Copyright Example News. All rights reserved.</footer>
  </body>
</html>
"""


def write_corpus(root: Path, count: int = 300, seed: int = 7) -> Corpus:
    """Write ``count`` articles as .txt, .html, .json, .jsonl and gzipped files.

    Besides the articles: a few exact copies under other names (each pair must
    end as one article row and one duplicate row) and a few bad inputs (each
    must end as an error row).
    """
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(root)
    jsonl: list[str] = []
    for i in range(count):
        headline, paragraphs, published = article(rng, i)
        url = f"https://news.example.org/{i:04d}-{headline.lower().replace(' ', '-')[:40]}"
        kind = i % 5
        if kind in (0, 1):
            name = f"text/{i:04d}.txt"
            (root / "text").mkdir(exist_ok=True)
            (root / name).write_text(headline + "\n\n" + "\n\n".join(paragraphs) + "\n")
        elif kind == 2:
            name = f"html/{i:04d}.html"
            (root / "html").mkdir(exist_ok=True)
            (root / name).write_text(_html(headline, paragraphs, published, url))
        elif kind == 3:
            name = f"json/{i:04d}.json.gz"
            (root / "json").mkdir(exist_ok=True)
            record = {"title": headline, "text": "\n\n".join(paragraphs), "url": url,
                      "published": published}
            (root / name).write_bytes(gzip.compress(json.dumps(record).encode(), mtime=0))
        else:
            jsonl.append(json.dumps({"title": headline, "text": "\n\n".join(paragraphs),
                                     "url": url, "published": published}))
            continue
        corpus.articles.append(name)
    (root / "feed.jsonl").write_text("\n".join(jsonl) + "\n")
    corpus.articles.extend(f"feed.jsonl#L{n}" for n in range(1, len(jsonl) + 1))

    (root / "copies").mkdir(exist_ok=True)
    for original in [a for a in corpus.articles if a.endswith(".txt")][:3]:
        copy = f"copies/{Path(original).stem}-repost.txt"
        (root / copy).write_bytes((root / original).read_bytes())
        corpus.exact_copies.append((original, copy))

    (root / "bad").mkdir(exist_ok=True)
    (root / "bad/empty.txt").write_bytes(b"")
    (root / "bad/binary.txt").write_bytes(bytes(range(256)) * 4)
    (root / "bad/broken.json").write_text('{"title": "Unfinished", "text": ')
    (root / "bad/notes.docx").write_bytes(b"PK\x03\x04 not really a document")
    corpus.bad.update({"bad/empty.txt": "empty", "bad/binary.txt": "binary",
                       "bad/broken.json": "invalid_json", "bad/notes.docx": "unsupported_type"})
    return corpus

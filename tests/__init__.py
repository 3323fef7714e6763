"""newsbeam's tests. The paths they share:"""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"  # the bundled sample articles
SEED_FILES = sorted(SEEDS.glob("*.txt"))

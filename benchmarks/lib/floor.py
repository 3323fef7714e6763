"""The floor: bare ``nlp.pipe`` over the corpus texts in one process.

``python -m benchmarks.lib.floor TEXTS.jsonl MODEL BATCH_SIZE`` prints one JSON
line: model load seconds, ``nlp.pipe`` seconds and the number of texts. The
model is loaded the way the tag stage loads it (``transforms.tag.load_model``,
which excludes the components tagging does not use).
"""

from __future__ import annotations

import json
import sys
import time

from newsbeam.transforms.spacy_model import load_model


def main(argv: list[str]) -> int:
    path, model, batch_size = argv[0], argv[1], int(argv[2])
    with open(path, encoding="utf-8") as handle:
        texts = [json.loads(line) for line in handle]
    t0 = time.perf_counter()
    nlp = load_model(model)  # the model the tag stage loads, with the same exclusions
    t1 = time.perf_counter()
    tokens = 0
    for doc in nlp.pipe(texts, batch_size=batch_size):
        tokens += len(doc)
    t2 = time.perf_counter()
    print(json.dumps({"load_seconds": t1 - t0, "pipe_seconds": t2 - t1, "texts": len(texts),
                      "tokens": tokens, "pipeline": nlp.pipe_names}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""The usual alternative to Meldeweg's classifier, on the same files: scikit-learn with TF-IDF
over word unigrams/bigrams and character 2-5-grams (within word boundaries) and multinomial
naive Bayes. Prints load (read + train) time, per-message latency and held-out accuracy.

    python3 -m pip install --user scikit-learn
    taskset -c 0 python3 benches/classify_sklearn.py
"""
import pathlib
import statistics
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline, make_union

CATEGORIES = ["strassenschaden", "beleuchtung", "muell", "graffiti", "verkehrszeichen",
              "gruen", "spielplatz", "kanal", "winterdienst", "sonstiges"]
CONFIG = pathlib.Path(__file__).resolve().parent.parent / "config"


def load():
    texts, labels = [], []
    for category in CATEGORIES:
        for line in (CONFIG / "training" / f"{category}.txt").read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                texts.append(line)
                labels.append(category)
    features = make_union(
        TfidfVectorizer(lowercase=True, ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(lowercase=True, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    model = make_pipeline(features, MultinomialNB(alpha=0.1))
    model.fit(texts, labels)
    return model


def main():
    loads = []
    for _ in range(10):
        started = time.perf_counter()
        load()
        loads.append(time.perf_counter() - started)
    print(f"model load (read files + train), 10 runs: median {statistics.median(loads) * 1e3:.1f} ms, "
          f"max {max(loads) * 1e3:.1f} ms")
    model = load()
    rows = (CONFIG / "evaluation" / "eval.tsv").read_text().splitlines()[1:]
    examples = [row.split("\t", 1) for row in rows if row.strip()]
    times = []
    for _ in range(5):
        for _, text in examples:
            started = time.perf_counter()
            model.predict([text])
            times.append(time.perf_counter() - started)
    times.sort()
    pick = lambda p: times[round(p / 100 * (len(times) - 1))] * 1e6
    print(f"classify one message ({len(examples)} messages x 5): p50 {pick(50):.1f} µs, p99 {pick(99):.1f} µs")
    predicted = model.predict([text for _, text in examples])
    expected = [category for category, _ in examples]
    print(f"held-out evaluation: accuracy {accuracy_score(expected, predicted):.3f}, "
          f"macro-F1 {f1_score(expected, predicted, average='macro'):.3f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fits the answer-confidence model (retrieval/confidence.cpp) on the project's question sets.

Reads the evidence `roundup-bot search --json` reports for the top hit of every question in the
in-scope sets (label 1) and the off-topic set (label 0), fits an L2-regularised logistic
regression on standardised features, reports 5-fold cross-validated refusal figures at the
chosen threshold, and prints the weights to paste into confidence.cpp.

  scripts/fit-confidence.py --bin build/roundup-bot --config build/eval-config.json
"""
import argparse
import concurrent.futures
import json
import math
import random
import subprocess

IN_SCOPE = ["tests/data/retrieval-questions.jsonl", "tests/data/in-scope-natural-questions.jsonl",
            "tests/data/fact-questions.jsonl"]
OFF_TOPIC = ["tests/data/off-topic-questions.jsonl"]


def features(ev):
    """Must match confidence_features() in retrieval/confidence.cpp."""
    lexical = ev["lexical_rank"] if ev["lexical_rank"] >= 0 else 200
    dense = ev["dense_rank"] if ev["dense_rank"] >= 0 else 200
    return [ev["coverage"], ev["best_matched"], ev["best_missing"], ev["unknown_share"],
            math.log1p(ev["matched_concepts"]), math.log1p(lexical), math.log1p(dense),
            ev["score"], ev["margin"], ev["coverage_margin"], ev["coverage"] * ev["best_matched"],
            1.0 if ev["matched_concepts"] >= 2 else 0.0, ev["coverage"] ** 2,
            1.0 if ev["missing_names"] > 0 else 0.0, 1.0 if ev["unknown_names"] > 0 else 0.0]


NAMES = ["coverage", "best_matched", "best_missing", "unknown_share", "log_matched_concepts",
         "log_lexical_rank", "log_dense_rank", "score", "margin", "coverage_margin",
         "coverage_x_best_matched", "two_or_more_matched", "coverage_squared", "misses_a_name",
         "names_the_unknown"]


def top_evidence(binary, config, question):
    out = subprocess.run([binary, "--config", config, "search", "--json", "--top-k", "1", question],
                         capture_output=True, text=True, check=True).stdout
    results = json.loads(out)["results"]
    if not results:
        return None
    return dict(results[0]["evidence"], score=results[0]["score"])


def load(files, label):
    rows = []
    for f in files:
        for line in open(f, encoding="utf-8"):
            if line.strip():
                rows.append((json.loads(line)["q"], label))
    return rows


def sigmoid(z):
    return 1 / (1 + math.exp(-max(-30, min(30, z))))


def fit(xs, ys, l2=0.01, steps=3000, rate=0.3):
    w = [0.0] * len(xs[0])
    b = 0.0
    n = len(xs)
    for _ in range(steps):
        gw = [l2 * wi for wi in w]
        gb = 0.0
        for x, y in zip(xs, ys):
            err = sigmoid(sum(wi * xi for wi, xi in zip(w, x)) + b) - y
            for i, xi in enumerate(x):
                gw[i] += err * xi / n
            gb += err / n
        w = [wi - rate * g for wi, g in zip(w, gw)]
        b -= rate * gb
    return w, b


def standardise(xs):
    cols = list(zip(*xs))
    mean = [sum(c) / len(c) for c in cols]
    sd = [math.sqrt(sum((v - m) ** 2 for v in c) / len(c)) or 1.0 for c, m in zip(cols, mean)]
    return mean, sd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    rows = load(IN_SCOPE, 1) + load(OFF_TOPIC, 0)
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        evidence = list(ex.map(lambda r: top_evidence(args.bin, args.config, r[0]), rows))
    data = [(features(ev), y, q) for ev, (q, y) in zip(evidence, rows) if ev is not None]
    # A question with no hit at all is declined whatever the model says.
    no_hit = [(q, y) for ev, (q, y) in zip(evidence, rows) if ev is None]
    mean, sd = standardise([x for x, _, _ in data])
    z = [([(v - m) / s for v, m, s in zip(x, mean, sd)], y, q) for x, y, q in data]

    random.seed(7)
    order = list(range(len(z)))
    random.shuffle(order)
    folds = [order[i::5] for i in range(5)]
    declined_off = declined_in = total_off = total_in = 0
    for k in range(5):
        test = set(folds[k])
        w, b = fit([z[i][0] for i in order if i not in test], [z[i][1] for i in order if i not in test])
        for i in folds[k]:
            x, y, _ = z[i]
            declined = sigmoid(sum(wi * xi for wi, xi in zip(w, x)) + b) < args.threshold
            if y:
                total_in += 1
                declined_in += declined
            else:
                total_off += 1
                declined_off += declined
    for q, y in no_hit:
        total_in += y
        declined_in += y
        total_off += 1 - y
        declined_off += 1 - y
    print(f"5-fold CV at threshold {args.threshold}: off-topic declined {declined_off}/{total_off}"
          f" ({declined_off / total_off:.3f}); in-scope declined {declined_in}/{total_in}"
          f" ({declined_in / total_in:.3f})")

    w, b = fit([x for x, _, _ in z], [y for _, y, _ in z])
    # Fold the standardisation into the weights: confidence = sigmoid(bias + sum(weight * raw)).
    raw_w = [wi / s for wi, s in zip(w, sd)]
    raw_b = b - sum(wi * m / s for wi, m, s in zip(w, mean, sd))
    print("weights (raw features), for retrieval/confidence.cpp:")
    for name, value in zip(NAMES, raw_w):
        print(f"  {value:+.4f},  // {name}")
    print(f"  bias {raw_b:+.4f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Public copy benchmark (issue 22): Meldeweg's `photo clean --public` (clean, find faces and
plates, write the obscured copy) against `deface`, the tool people use to blur faces in photos
(CenterFace in onnxruntime), on the same photo in one run; then the two detector networks alone
in onnxruntime, against which tract's figures in BENCHMARKS.md are compared.

Whole processes, start-up and model loading included, all cores for every tool; median wall time
and peak RSS over the runs.

    python3 -m venv /tmp/deface-venv
    /tmp/deface-venv/bin/pip install deface==1.5.0 onnxruntime onnx
    /tmp/deface-venv/bin/python benches/public_copy.py [--runs 10] [PHOTO]

Without a photo: the 12 MP phone fixture. Builds the release binary.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from deface.centerface import CenterFace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "photos", "phone_o6_gps.jpg")
MELDEWEG = os.path.join(ROOT, "target", "release", "meldeweg")
DEFACE = os.path.join(os.path.dirname(sys.executable), "deface")


def run_once(command):
    """Runs a command; returns (seconds, peak RSS in KiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"{command[0]} failed: {process.stderr.read().decode(errors='replace')}")
    return time.perf_counter() - start, usage.ru_maxrss


def tools(photo, out):
    return {
        "meldeweg photo clean --public (faces 2048, plates 1024)": [
            MELDEWEG, "photo", "clean", photo, f"{out}/m.jpg", "--public", f"{out}/m_public.jpg"],
        "deface (faces only, whole 12 MP photo)": [DEFACE, photo, "-o", f"{out}/d.jpg", "--thresh", "0.3"],
        "deface --scale 2048x1536 (faces only)": [
            DEFACE, photo, "-o", f"{out}/d2.jpg", "--thresh", "0.3", "--scale", "2048x1536"],
    }


def median_ms(run, runs):
    run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def networks(runs):
    ort.set_default_logger_severity(3)
    image = (np.random.default_rng(22).random((1024, 768, 3)) * 255).astype(np.uint8)
    faces = CenterFace(in_shape=(768, 1024), backend="onnxrt")
    print(f"\nthe networks alone in onnxruntime {ort.__version__}, 768 x 1024 input, median of {runs}")
    print(f"  CenterFace (deface's wrapper)     {median_ms(lambda: faces(image, threshold=0.3), runs):8.0f} ms")
    plates = ort.InferenceSession(os.path.join(ROOT, "models", "ppocr_v4_det.onnx"),
                                  providers=["CPUExecutionProvider"])
    tensor = np.random.default_rng(22).random((1, 3, 1024, 768)).astype(np.float32)
    name = plates.get_inputs()[0].name
    print(f"  PP-OCRv4 text detector            {median_ms(lambda: plates.run(None, {name: tensor}), runs):8.0f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("photo", nargs="?", default=FIXTURE)
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "meldeweg"], cwd=ROOT, check=True)
    results = {}
    with tempfile.TemporaryDirectory() as out:
        for name, command in tools(args.photo, out).items():
            run_once(command)  # warm the page cache
        for _ in range(args.runs):
            for name, command in tools(args.photo, out).items():
                results.setdefault(name, []).append(run_once(command))
    print(f"{os.path.basename(args.photo)}: {args.runs} runs per tool, taking turns; median wall time, peak RSS")
    baseline = None
    for name, runs in results.items():
        wall = statistics.median(s for s, _ in runs) * 1000
        rss = max(r for _, r in runs) / 1024
        baseline = baseline or wall
        print(f"  {name:<56} {wall:8.0f} ms   {rss:6.0f} MB   ({wall / baseline:.2f}× Meldeweg)")
    networks(args.runs)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Photo cleaning benchmark: Meldeweg's `photo clean` (cleaned image + thumbnail) against
`vipsthumbnail` making the same two sizes with `strip`, and `exiftool -all=` (strip only), side
by side on the same photos, in one run, each pinned to one core.

Reports the median wall time per image and the peak RSS of each tool's process.

    python3 benches/photo_clean.py [--runs 15] [PHOTO ...]

Without photos: the 12 MP phone fixture and the wallpapers of Debian's lomiri-wallpapers.
Installs libvips-tools, libimage-exiftool-perl and lomiri-wallpapers when missing, and builds
the release binary.
"""

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "photos", "phone_o6_gps.jpg")
MELDEWEG = os.path.join(ROOT, "target", "release", "meldeweg")
CORE = "0"


def ensure_tools():
    missing = [pkg for tool, pkg in [("vipsthumbnail", "libvips-tools"), ("exiftool", "libimage-exiftool-perl")]
               if shutil.which(tool) is None]
    if not glob.glob("/usr/share/backgrounds/lomiri*") and not glob.glob("/usr/share/backgrounds/*.jpg"):
        missing.append("lomiri-wallpapers")
    if missing:
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "meldeweg"], cwd=ROOT, check=True)


def run_once(commands):
    """Runs commands one after another; returns (seconds, peak RSS in KiB of the largest)."""
    start = time.perf_counter()
    peak = 0
    for command in commands:
        process = subprocess.Popen(["taskset", "-c", CORE, *command], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, env={**os.environ, "VIPS_CONCURRENCY": "1"})
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            sys.exit(f"{command[0]} failed: {process.stderr.read().decode(errors='replace')}")
        peak = max(peak, usage.ru_maxrss)
    return time.perf_counter() - start, peak


def tools(photo, out):
    return {
        "meldeweg photo clean (image + thumbnail)": [
            [MELDEWEG, "photo", "clean", photo, f"{out}/m.jpg", "--thumb", f"{out}/m_thumb.jpg"]],
        "vipsthumbnail --size 2048 + 320, strip": [
            ["vipsthumbnail", photo, "--size", "2048", "-o", f"{out}/v.jpg[Q=82,strip]"],
            ["vipsthumbnail", photo, "--size", "320", "-o", f"{out}/v_thumb.jpg[Q=82,strip]"]],
        "exiftool -all= (strip only)": [
            ["exiftool", "-q", "-all=", "-o", f"{out}/e.jpg", photo]],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("photos", nargs="*")
    args = parser.parse_args()
    ensure_tools()
    photos = args.photos or [FIXTURE] + sorted(glob.glob("/usr/share/backgrounds/**/*.jpg", recursive=True))[:4]
    results = {}
    with tempfile.TemporaryDirectory() as out:
        for photo in photos:
            for name, commands in tools(photo, out).items():
                # exiftool refuses to overwrite its output.
                for leftover in glob.glob(f"{out}/e.jpg"):
                    os.remove(leftover)
                run_once(commands)  # warm the page cache
                for _ in range(args.runs):
                    for leftover in glob.glob(f"{out}/e.jpg"):
                        os.remove(leftover)
                    seconds, rss = run_once(commands)
                    results.setdefault((photo, name), []).append((seconds, rss))
    print(f"one core (taskset -c {CORE}), {args.runs} runs per tool and photo, median wall time, peak RSS")
    for photo in photos:
        size = subprocess.run(["vipsheader", photo], capture_output=True, text=True).stdout.strip().split(": ", 1)[-1]
        print(f"\n{os.path.basename(photo)}  ({size})")
        baseline = None
        for name in tools(photo, "/tmp"):
            runs = results[(photo, name)]
            median_ms = statistics.median(s for s, _ in runs) * 1000
            rss_mb = max(r for _, r in runs) / 1024
            baseline = baseline or median_ms
            print(f"  {name:<44} {median_ms:8.1f} ms   {rss_mb:6.1f} MB   ({median_ms / baseline:.2f}× Meldeweg)")


if __name__ == "__main__":
    main()

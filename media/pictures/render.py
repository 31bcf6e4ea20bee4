#!/usr/bin/env python3
"""Render every exercise picture: <id>.svg (the hand-written source) -> <id>.png (what the app shows).

A development tool, never needed by the kiosk: it calls `rsvg-convert` (Debian package
librsvg2-bin). The output depends only on the SVG and the rsvg-convert version, and a PNG
is rewritten only when its bytes change, so running it twice changes nothing.

    python3 media/pictures/render.py            # render all SVGs beside this script
    python3 media/pictures/render.py --check    # exit 1 if a PNG is missing or stale
    python3 media/pictures/render.py toe-spreads.svg --output /tmp/out.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

PICTURES_DIR = Path(__file__).resolve().parent
SIZE_PX = 512
"""Width and height of every PNG: the square 512x512 viewBox at one pixel per unit."""

RENDERER = "rsvg-convert"


def render_bytes(svg: Path, size_px: int = SIZE_PX) -> bytes:
    """The PNG for one SVG, as bytes (rsvg-convert writes no timestamps, so this is repeatable)."""
    tool = shutil.which(RENDERER)
    if tool is None:
        raise SystemExit(f"{RENDERER} not found: install it with `sudo apt-get install librsvg2-bin`")
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "out.png"
        subprocess.run([tool, "--format", "png", "--width", str(size_px), "--height", str(size_px),
                        "--output", str(target), str(svg)], check=True)
        return target.read_bytes()


def render(svg: Path, png: Path, size_px: int = SIZE_PX) -> bool:
    """Write `png` from `svg` when its bytes differ; True when the file was (re)written."""
    data = render_bytes(svg, size_px)
    if png.is_file() and png.read_bytes() == data:
        return False
    partial = png.with_name(png.name + ".partial")
    partial.write_bytes(data)
    partial.replace(png)
    return True


def sources(names: Sequence[str]) -> List[Path]:
    if not names:
        return sorted(PICTURES_DIR.glob("*.svg"))
    return [Path(name) if Path(name).is_absolute() or Path(name).exists() else PICTURES_DIR / name
            for name in names]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Render exercise pictures from SVG to PNG.")
    parser.add_argument("svgs", nargs="*", help="SVG files (default: every SVG beside this script)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a PNG is missing or stale")
    parser.add_argument("--output", type=Path, help="where to write the PNG (only with one SVG)")
    parser.add_argument("--size", type=int, default=SIZE_PX, help=f"width and height in pixels (default {SIZE_PX})")
    args = parser.parse_args(argv)
    svgs = sources(args.svgs)
    if args.output is not None and len(svgs) != 1:
        parser.error("--output needs exactly one SVG")
    stale = []
    for svg in svgs:
        png = args.output or svg.with_suffix(".png")
        if args.check:
            if not png.is_file() or png.read_bytes() != render_bytes(svg, args.size):
                stale.append(png)
        elif render(svg, png, args.size):
            print(f"wrote {png}")
    for png in stale:
        print(f"stale: {png} (run {Path(__file__).name})", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

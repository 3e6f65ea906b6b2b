"""Execute Calore's notebooks headless, or strip their outputs.

    python notebooks/run.py                 execute every notebook; exit 1 if one raises
    python notebooks/run.py a.ipynb b.ipynb execute these
    python notebooks/run.py --strip         remove outputs and execution counts in place
                                            (do this before committing a notebook)

Executing never writes the notebooks back: the committed files stay without
outputs. With --save DIR, executed copies (outputs included) go to DIR.
"""

import argparse
import glob
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = os.path.dirname(os.path.abspath(__file__))


def notebooks(paths):
    return paths or sorted(glob.glob(os.path.join(HERE, "*.ipynb")))


def strip(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def execute(path, save_dir, timeout):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": HERE}})
    start = time.time()
    try:
        client.execute()
    finally:
        if save_dir:
            os.makedirs(save_dir, exist_ok=True)
            nbformat.write(nb, os.path.join(save_dir, os.path.basename(path)))
    images = sum(1 for c in nb.cells if c.cell_type == "code"
                 for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
    tables = sum(1 for c in nb.cells if c.cell_type == "code"
                 for o in c.get("outputs", []) if "text/html" in o.get("data", {}))
    return time.time() - start, images, tables


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--strip", action="store_true")
    ap.add_argument("--save", metavar="DIR")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args()
    failed = 0
    for path in notebooks(args.paths):
        name = os.path.basename(path)
        if args.strip:
            strip(path)
            print(f"stripped {name}")
            continue
        try:
            took, images, tables = execute(path, args.save, args.timeout)
        except CellExecutionError as e:
            failed += 1
            print(f"FAIL {name}:\n{e}", flush=True)
            continue
        # a notebook must show at least one chart and one table
        if images == 0 or tables == 0:
            failed += 1
            print(f"FAIL {name}: {images} charts, {tables} tables; want at least one of each", flush=True)
            continue
        print(f"ok   {name} ({took:.1f}s, {images} charts, {tables} tables)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

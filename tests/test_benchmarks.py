"""``make bench`` keeps working: its quickest sections run end to end and write their JSON.

A smoke run at small sizes (``--quick``): it checks that the runner, the table and the JSON file hold
together and that the correctness checks inside those sections pass. The figures of a quick run mean
nothing and are not looked at; speed is measured by ``make bench`` itself, never by a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_quick_run_writes_every_line_with_its_reference(tmp_path):
    out = tmp_path / "bench.json"
    sections = ["bench_import_time", "bench_mixed_model", "bench_cafs"]
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--only", *sections, "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["quick"] is True
    assert results["failures"] == []
    whats = [line["what"] for line in results["lines"]]
    assert "alscell --help start-up" in whats
    assert any(what.startswith("mixed model") for what in whats)
    assert any(what.startswith("CAFS") for what in whats)
    for line in results["lines"]:
        assert line["alscell"]["value"] > 0
        if line["reference"] is not None:
            assert line["reference"]["value"] > 0
            assert line["ratio"] is not None
    assert "make bench" in completed.stdout  # the combined table's title

"""Managed by the LLMOps template. Benchmark: variants x lines + evaluation against the mock LLM.

Builds a throw-away use case in a temporary copy of this project (a DAG flow whose LLM
node has ``--variants`` variants, ``--lines`` data lines and a Python evaluator), then
runs ``llmops run`` and ``llmops evaluate`` in-process through prompt flow against the
local mock LLM with ``--latency`` seconds per reply. The mock serves from a child
process, as a real endpoint would, so this process's CPU time is llmops and prompt flow
alone. It prints the engine's start-up (importing prompt flow, storing connections)
and, per stage, the wall time, lines per second, the CPU time this process used (per
line), and the ideal time ``lines x variants x latency / workers`` (the evaluator is
plain Python, so the evaluate stage's ideal is about zero).

    python benchmarks/experiment_bench.py --lines 100 --variants 3 --latency 0.05 --workers 8

``--executor`` and ``--concurrent-runs`` set ``runtime.executor`` and
``runtime.concurrent_runs``. Figures and where the time goes: docs/experiments.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llmops.config import load_connections  # noqa: E402
from llmops.engine import get_engine, prepare_connections  # noqa: E402
from llmops.evaluate import evaluate_use_case  # noqa: E402
from llmops.mock_llm import connections_pointed_at, start_in_subprocess  # noqa: E402
from llmops.run import run_use_case  # noqa: E402

VARIANT = """\
      v{index}:
        node:
          type: llm
          source:
            type: code
            path: prompt.jinja2
          inputs:
            {model_key}: {deployment}
            temperature: 0.{index}
            text: ${{inputs.text}}
          connection: {connection}
          api: chat
"""
STANDARD = """\
inputs:
  text:
    type: string
outputs:
  answer:
    type: string
    reference: ${{tidy.output}}
nodes:
  - name: ask
    use_variants: true
  - name: tidy
    type: python
    source:
      type: code
      path: tidy.py
    inputs:
      answer: ${{ask.output}}
node_variants:
  ask:
    default_variant_id: v0
    variants:
{variants}"""
EVALUATION = """\
inputs:
  answer:
    type: string
  expected:
    type: string
outputs:
  match:
    type: int
    reference: ${score.output}
nodes:
  - name: score
    type: python
    source:
      type: code
      path: score.py
    inputs:
      answer: ${inputs.answer}
      expected: ${inputs.expected}
  - name: rate
    type: python
    source:
      type: code
      path: rate.py
    inputs:
      scores: ${score.output}
    aggregation: true
"""
EXPERIMENT = """\
name: bench
connections: [{connection}]
variants: one_factor
runtime:
  workers: {workers}
  executor: {executor}
  concurrent_runs: {concurrent_runs}
datasets:
  - name: lines
    source: data/lines.jsonl
    mappings:
      text: ${{data.text}}
evaluators:
  - name: check
    flow: flows/evaluation
    datasets:
      - name: lines
        mappings:
          answer: ${{run.outputs.answer}}
          expected: ${{data.expected}}
gates:
  check.match_rate: ">= 0"
"""
FILES = {
    "flows/standard/prompt.jinja2": "# system:\nRepeat the names.\n\n# user:\nText: {{text}}\n",
    "flows/standard/tidy.py": (
        "from promptflow.core import tool\n\n\n@tool\ndef tidy(answer: str) -> str:\n"
        "    return answer.strip()\n"
    ),
    "flows/evaluation/score.py": (
        "from promptflow.core import tool\n\n\n@tool\n"
        "def score(answer: str, expected: str) -> int:\n    return int(answer == expected)\n"
    ),
    "flows/evaluation/rate.py": (
        "from promptflow.core import log_metric, tool\n\n\n@tool\n"
        "def rate(scores: list[int]) -> float:\n"
        "    value = sum(scores) / max(len(scores), 1)\n"
        '    log_metric("match_rate", value)\n    return value\n'
    ),
}


def build(project: Path, args: argparse.Namespace) -> None:
    """A copy of this project's config with one generated use case, ``bench``."""
    shutil.copytree(ROOT / "config", project / "config")
    if (ROOT / "pf.yaml").is_file():
        shutil.copy(ROOT / "pf.yaml", project / "pf.yaml")
    connection = load_connections(project)[0]
    model_key = "deployment_name" if connection.type == "azure_openai" else "model"
    case = project / "use_cases" / "bench"
    text = "".join(
        VARIANT.format(
            index=index,
            model_key=model_key,
            deployment=connection.deployment,
            connection=connection.name,
        )
        for index in range(args.variants)
    )
    experiment = EXPERIMENT.format(
        connection=connection.name,
        workers=args.workers,
        executor=args.executor,
        concurrent_runs=args.concurrent_runs,
    )
    files = {
        "experiment.yaml": experiment,
        "flows/standard/flow.dag.yaml": STANDARD.format(variants=text),
        "flows/evaluation/flow.dag.yaml": EVALUATION,
        **FILES,
    }
    for relative, content in files.items():
        (case / relative).parent.mkdir(parents=True, exist_ok=True)
        (case / relative).write_text(content, encoding="utf-8")
    rows = [
        {"text": f"Line {n}: Ada Lovelace met Charles Babbage.", "expected": "Ada Lovelace"}
        for n in range(args.lines)
    ]
    (case / "data").mkdir(exist_ok=True)
    (case / "data" / "lines.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8"
    )


def bytecode_cached() -> bool:
    """Whether promptflow's modules load from .pyc files (importing it takes ~3x longer without)."""
    spec = importlib.util.find_spec("promptflow.client")
    origin = spec.origin if spec else None
    return bool(origin) and Path(importlib.util.cache_from_source(origin)).is_file()


def stage_line(title: str, seconds: float, cpu: float, lines: int, ideal: float | None) -> str:
    """One result line: wall time, lines per second, CPU per line and the ratio to ``ideal``."""
    text = (
        f"{title + ':':16}{seconds:7.1f} s  ({lines / seconds:6.1f} lines/s; "
        f"CPU {cpu:5.1f} s, {1000 * cpu / lines:4.1f} ms/line)"
    )
    if ideal:
        text += f"; ideal {ideal:.2f} s, {seconds / ideal:.1f}x ideal"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05, help="mock seconds per reply")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--executor", choices=("threads", "processes"), default="threads")
    parser.add_argument("--concurrent-runs", type=int, default=1, help="runs at a time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmops-bench-") as folder:
        project = Path(folder)
        build(project, args)
        for name in ("PF_HOME_DIRECTORY", "KEYRING_PROPERTY_FILE_PATH", "PYTHON_KEYRING_BACKEND"):
            os.environ.pop(name, None)  # the throw-away project gets its own prompt flow home
        engine = get_engine(root=project)
        with (
            start_in_subprocess(project, latency=args.latency) as base_url,
            connections_pointed_at(project, base_url) as names,
        ):
            clock = [(time.monotonic(), time.process_time())]
            prepare_connections(engine, names, project)  # imports prompt flow
            clock.append((time.monotonic(), time.process_time()))
            record = run_use_case(project, "bench", None, engine, echo=print)
            clock.append((time.monotonic(), time.process_time()))
            evaluated = evaluate_use_case(project, "bench", None, engine, echo=print)
            clock.append((time.monotonic(), time.process_time()))
    failed = evaluated.failed
    lines = args.lines * len(record.standard_runs)
    ideal = lines * args.latency / args.workers
    print(
        f"\nruns: {len(record.standard_runs)} standard + {len(evaluated.evaluation_runs)} "
        f"evaluation, {len(failed)} failed; executor {args.executor}, "
        f"{args.concurrent_runs} run(s) at a time, workers {args.workers}"
    )
    cached = "yes" if bytecode_cached() else "no: PYTHONDONTWRITEBYTECODE or a read-only venv"
    (started, _), (warm, warm_cpu), (ran, ran_cpu), (done, done_cpu) = clock
    print(f"engine start:   {warm - started:7.1f} s  (import promptflow; .pyc cached: {cached})")
    print(stage_line("run stage", ran - warm, ran_cpu - warm_cpu, lines, ideal))
    print(stage_line("evaluate stage", done - ran, done_cpu - ran_cpu, lines, None))
    print(stage_line("total wall", done - started, done_cpu - clock[0][1], lines, ideal))
    print(
        f"ideal = lines x variants x latency / workers = {args.lines} x "
        f"{len(record.standard_runs)} x {args.latency} / {args.workers} = {ideal:.2f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":  # required: prompt flow starts worker processes
    sys.exit(main())

"""The generated project installs, passes its own checks, and runs its experiment offline."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import copier
import pytest

from conftest import DEFAULT_ANSWERS, REPO_ROOT, commit_all, generate, git

pytestmark = pytest.mark.slow
USE_CASE = "named_entity_recognition"
SECRET = "sk-test-SENTINEL-7f3a9c"  # must never reach a file or a log


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A default project, committed, installed with its own `make setup` into a cached venv."""
    root = tmp_path_factory.mktemp("generated")
    destination = root / "contoso-ner"
    copier.run_copy(
        str(REPO_ROOT),
        destination,
        data=DEFAULT_ANSWERS,
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",
        quiet=True,
    )
    commit_all(destination, "Generated from the LLMOps template")
    venv = root / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["PRE_COMMIT_HOME"] = str(root / "pre-commit-home")
    env.pop("AOAI_API_KEY", None)
    env.pop("AOAI_API_BASE", None)
    run(["make", "setup", f"VENV={venv}"], destination, env, timeout=900)
    yield destination, env


def run(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: int = 600,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
    )
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_setup_byte_compiles_the_dependencies(project) -> None:
    """With PYTHONDONTWRITEBYTECODE set (CI images, this machine) an uncompiled venv costs
    every llmops command seconds of re-compiling prompt flow and azure-ai-ml."""
    path, env = project
    site = run(
        ["python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], path, env
    )
    packages = Path(site.stdout.strip())
    for package in ("promptflow", "azure/ai/ml"):
        sources = list((packages / package).rglob("*.py"))
        compiled = list((packages / package).rglob("__pycache__/*.pyc"))
        assert len(compiled) >= 0.9 * len(sources), f"{package}: {len(compiled)}/{len(sources)}"


def test_ruff_check_and_format_pass(project) -> None:
    path, env = project
    run(["ruff", "check", "."], path, env)
    run(["ruff", "format", "--check", "."], path, env)


def test_project_pytest_passes(project) -> None:
    path, env = project
    result = run(["pytest", "-q"], path, env)
    assert " passed" in result.stdout


def test_pre_commit_passes_on_all_files(project) -> None:
    path, env = project
    run(["pre-commit", "run", "--all-files"], path, env, timeout=900)


def test_llmops_validate_accepts_every_experiment(project) -> None:
    path, env = project
    run(["llmops", "validate", "--all"], path, env)
    run(["llmops", "validate", "--all", "--env", "pr"], path, env)


def test_offline_experiment_with_separate_commands(project) -> None:
    """mock-llm -> run -> evaluate -> report, as a pipeline would call them."""
    path, env = project
    port = free_port()
    mock = subprocess.Popen(
        ["llmops", "mock-llm", "--port", str(port)],
        cwd=path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                assert mock.poll() is None, "the mock LLM exited early"
                assert time.monotonic() < deadline, "the mock LLM never became healthy"
                time.sleep(0.3)
        run_env = {**env, "AOAI_API_BASE": f"http://127.0.0.1:{port}/", "AOAI_API_KEY": SECRET}
        for command in ("run", "evaluate", "report"):
            result = run(["llmops", command, "--use-case", USE_CASE], path, run_env)
            assert SECRET not in result.stdout + result.stderr, (
                f"`llmops {command}` printed the key"
            )
    finally:
        mock.terminate()
        mock.wait(timeout=30)
    leaked = [
        str(p.relative_to(path))
        for p in path.rglob("*")
        if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    assert not leaked, f"the API key was written to {leaked}"

    reports = path / "reports" / USE_CASE
    html = (reports / "report.html").read_text()
    assert "exact_match_rate" in html
    with (reports / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    metrics = {row["metric"]: float(row["value"]) for row in rows}
    assert 0.0 < metrics["exact_match_rate"] < 1.0, metrics
    assert 0.0 < metrics["f1"] < 1.0, metrics


def test_experiment_benchmark_runs_and_prints_its_figures(project) -> None:
    """The benchmark in benchmarks/ is only read when someone needs it: keep it working."""
    path, env = project
    command = ["python", "benchmarks/experiment_bench.py", "--lines", "5", "--variants", "2"]
    result = run([*command, "--latency", "0.01", "--workers", "2"], path, env)
    output = result.stdout
    assert "runs: 2 standard + 2 evaluation, 0 failed" in output, output
    for figure in ("engine start:", "run stage:", "evaluate stage:", "total wall:"):
        assert figure in output, output
    assert "ms/line" in output and "x ideal" in output, output
    assert "= 5 x 2 x 0.01 / 2 = 0.05 s" in output, output


LLMOPS_LINE = re.compile(
    r"^\s*(?:-\s*)?(?:(?:script|run|inlineScript):\s*)?(llmops [a-z][^|]*?)\s*(?:\|\|.*)?$"
)
"""A pipeline or script line that runs llmops (not a step name, not a comment)."""
PARSE_ALL = """
import json, sys
from llmops.cli import build_parser

refused = []
for argv in json.load(sys.stdin):
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        refused.append(argv)
print(json.dumps(refused))
"""


def llmops_commands(root: Path) -> list[list[str]]:
    """The llmops command lines of a project's pipelines and scripts, variables filled in."""
    folders = [root / ".azure-pipelines", root / ".github", root / "scripts"]
    found = []
    for path in sorted(p for folder in folders for p in folder.rglob("*") if p.is_file()):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = LLMOPS_LINE.match(line)
            if not match:
                continue
            command = re.sub(r"\$\{\{.*?\}\}", "$expression", match.group(1))
            words = shlex.split(command)[1:]
            for index, word in enumerate(words):
                if "$" in word:  # a pipeline or shell variable: a value valid for its option
                    option = words[index - 1] if index else ""
                    words[index] = {"--target": "azure", "--workers": "4"}.get(option, "value")
            found.append(words)
    return found


def test_every_llmops_command_in_the_pipelines_parses(project, tmp_path: Path) -> None:
    """A misspelt option in a pipeline would only fail on the first real CI run."""
    path, env = project
    github = generate(REPO_ROOT, tmp_path / "github", "HEAD", ci_platform="github")
    commands = llmops_commands(path) + llmops_commands(github)
    subcommands = {argv[0] for argv in commands}
    assert {"experiment", "gate", "validate", "run", "deploy", "smoke"} <= subcommands
    assert ["experiment", "--all", "--env", "pr", "--offline"] in commands
    known_bad = ["experiment", "--all", "--use-case", "x"]
    result = run(["python", "-c", PARSE_ALL], path, env, stdin=json.dumps([*commands, known_bad]))
    refused = json.loads(result.stdout)
    assert refused == [known_bad], result.stderr


def test_checks_leave_the_work_tree_clean(project) -> None:
    """Runs, reports and caches are git-ignored: a user's `git status` stays clean."""
    path, env = project
    run(["llmops", "experiment", "--offline", "--use-case", USE_CASE, "--env", "pr"], path, env)
    assert git(path, "status", "--porcelain") == ""


def without_venv(env: dict[str, str]) -> dict[str, str]:
    """The environment of a user who never activated the project's venv."""
    folders = env["PATH"].split(os.pathsep)[1:]  # the fixture put the venv first
    return {**env, "PATH": os.pathsep.join(folders)}


def test_commits_run_the_hooks_without_an_activated_venv(project) -> None:
    """`git commit` of a .py file used to fail with "Executable `ruff` not found"."""
    path, env = project
    plain = without_venv(env)
    assert subprocess.run(["sh", "-c", "command -v ruff"], env=plain, check=False).returncode
    helper = path / "scripts" / "commit_check.py"
    helper.write_text('"""A new module."""\n\n\ndef answer() -> int:\n    return 42\n')
    git(path, "add", "scripts/commit_check.py")
    run(["git", "commit", "-q", "-m", "a module, hooks on"], path, plain)
    helper.write_text('"""A new module."""\n\nimport os\n')  # F401: the hook must refuse it
    git(path, "add", "scripts/commit_check.py")
    refused = subprocess.run(
        ["git", "commit", "-q", "-m", "unused import"],
        cwd=path,
        env=plain,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "F401" in refused.stdout + refused.stderr
    git(path, "reset", "-q", "--hard", "HEAD~1")  # leave the project as the other tests found it


CUSTOM_FLOW = {
    "flow.dag.yaml": """\
inputs:
  review: {type: string}
outputs:
  sentiment: {type: string, reference: "${parse.output}"}
nodes:
  - name: classify
    type: llm
    source: {type: code, path: classify.jinja2}
    inputs: {deployment_name: gpt-4o-mini, temperature: 0, review: "${inputs.review}"}
    connection: aoai
    api: chat
  - name: parse
    type: python
    source: {type: code, path: parse.py}
    inputs: {answer: "${classify.output}"}
""",
    "classify.jinja2": "# system:\nAnswer positive or negative.\n\n# user:\n{{review}}\n",
    "parse.py": (
        "from promptflow.core import tool\n\n\n@tool\ndef parse(answer: str) -> str:\n"
        "    return 'positive' if 'positive' in answer.lower() else 'negative'\n"
    ),
    "reviews.jsonl": "".join(
        json.dumps({"review": text, "label": label}) + "\n"
        for text, label in [("Great value.", "positive"), ("Broke in a day.", "negative")] * 3
    ),
}
CUSTOM_EVALUATION = {
    "flow.dag.yaml": """\
inputs:
  sentiment: {type: string}
  label: {type: string}
outputs:
  correct: {type: int, reference: "${match.output}"}
nodes:
  - name: match
    type: python
    source: {type: code, path: match.py}
    inputs: {sentiment: "${inputs.sentiment}", label: "${inputs.label}"}
  - name: accuracy
    type: python
    source: {type: code, path: accuracy.py}
    inputs: {results: "${match.output}"}
    aggregation: true
""",
    "match.py": (
        "from promptflow.core import tool\n\n\n@tool\n"
        "def match(sentiment: str, label: str) -> int:\n    return int(sentiment == label)\n"
    ),
    "accuracy.py": (
        "from promptflow.core import log_metric, tool\n\n\n@tool\n"
        "def accuracy(results: list) -> float:\n    value = sum(results) / len(results)\n"
        "    log_metric(key='accuracy', value=value)\n    return value\n"
    ),
}
OTHER_PYTHONS = ["3.10", "3.12"]
"""The default, 3.11, is the `project` fixture's; each other offered version gets its own."""
ALL_SAMPLES = ["named_entity_recognition", "web_classification", "ticket_triage", "docs_chat"]


@pytest.fixture(scope="module", params=OTHER_PYTHONS)
def versioned_project(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str], str]:
    """A project for another offered Python, all samples, set up like a user would."""
    version = request.param
    root = tmp_path_factory.mktemp(f"python{version}")
    destination = generate(
        REPO_ROOT,
        root / "project",
        "HEAD",
        python_version=version,
        sample_flows=ALL_SAMPLES,
        ci_platform="github",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.pop("AOAI_API_KEY", None)
    env.pop("AOAI_API_BASE", None)
    env["PRE_COMMIT_HOME"] = str(root / "pre-commit-home")
    run(["make", "setup", f"VENV={root / 'venv'}"], destination, env, timeout=900)
    env["PATH"] = f"{root / 'venv' / 'bin'}{os.pathsep}{env['PATH']}"
    return destination, env, version


def test_each_offered_python_lints_tests_and_runs_offline(versioned_project, tmp_path) -> None:
    """ruff (the pinned version) and the project's tests pass on the first commit, and every
    sample plus a flow brought in with import-flow runs offline, with no traceback."""
    path, env, version = versioned_project
    python = run(["python", "-c", "import sys; print(sys.version)"], path, env).stdout
    assert python.startswith(version)
    run(["ruff", "check", "."], path, env)
    run(["ruff", "format", "--check", "."], path, env)
    run(["pytest", "-q", "-m", "not e2e", "-p", "no:cacheprovider"], path, env)
    flow, evaluation = tmp_path / "sentiment", tmp_path / "sentiment_eval"
    for folder, files in ((flow, CUSTOM_FLOW), (evaluation, CUSTOM_EVALUATION)):
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text)
    run(["llmops", "import-flow", str(flow), "--evaluation", str(evaluation)], path, env)
    result = run(["llmops", "experiment", "--offline", "--all", "--env", "pr"], path, env)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    assert "[experiment] 5 use cases: " in result.stdout, output[-3000:]
    assert "sentiment ok" in result.stdout


AF_USE_CASES = "docs_chat ok, named_entity_recognition ok, ticket_triage ok, web_classification ok"


@pytest.fixture(scope="module")
def af_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The one Agent Framework project (all samples, lowest offered Python), set up like a
    user would: its venv cannot hold prompt flow, so no other tier can share it."""
    root = tmp_path_factory.mktemp("agent-framework")
    destination = generate(
        REPO_ROOT,
        root / "project",
        "HEAD",
        flow_engine="agent_framework",
        python_version="3.10",
        sample_flows=ALL_SAMPLES,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.pop("AOAI_API_KEY", None)
    env.pop("AOAI_API_BASE", None)
    env["PRE_COMMIT_HOME"] = str(root / "pre-commit-home")
    run(["make", "setup", f"VENV={root / 'venv'}"], destination, env, timeout=900)
    env["PATH"] = f"{root / 'venv' / 'bin'}{os.pathsep}{env['PATH']}"
    return destination, env


def test_agent_framework_project_installs_without_prompt_flow(af_project) -> None:
    """agent-framework-core and promptflow cannot share a venv: only the chosen engine is in."""
    path, env = af_project
    probe = "import importlib.util as u; print(*(bool(u.find_spec(m)) for m in %r))"
    modules = ("agent_framework", "azure.ai.evaluation", "azure.ai.ml", "promptflow")
    found = run(["python", "-c", probe % (modules,)], path, env).stdout.split()
    assert found == ["True", "True", "True", "False"], dict(zip(modules, found, strict=True))
    run(["llmops", "--help"], path, env)


def test_agent_framework_project_passes_its_first_commit_checks(af_project) -> None:
    """ruff, every pre-commit hook and the project's tests pass; prompt flow's tests skip."""
    path, env = af_project
    run(["ruff", "check", "."], path, env)
    run(["ruff", "format", "--check", "."], path, env)
    run(["pre-commit", "run", "--all-files"], path, env, timeout=900)
    result = run(["pytest", "-q", "-m", "not e2e", "-p", "no:cacheprovider"], path, env)
    assert "needs promptflow, which this project does not install" in result.stdout
    run(["pytest", "-q", "-m", "e2e", "-p", "no:cacheprovider"], path, env)


def test_agent_framework_project_runs_every_sample_offline(af_project) -> None:
    """The pull-request experiment of every sample, as the PR pipeline runs it."""
    path, env = af_project
    run(["llmops", "validate", "--all", "--env", "pr"], path, env)
    result = run(["llmops", "experiment", "--offline", "--all", "--env", "pr"], path, env)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    assert f"[experiment] 4 use cases: {AF_USE_CASES}" in result.stdout, output[-3000:]
    assert git(path, "status", "--porcelain") == ""


def metric_values(project: Path) -> dict[tuple[str, ...], str]:
    """``(use case, variant, dataset, evaluator, metric) -> value`` from every metrics.csv."""
    values = {}
    for path in sorted((project / "reports").glob("*/metrics.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                key = (path.parent.name, row["variant"], row["evaluator_dataset"])
                values[(*key, row["evaluator"], row["metric"])] = row["value"]
    return values


@pytest.mark.parametrize("versioned_project", ["3.10"], indirect=True)
def test_samples_migrate_to_agent_framework_with_the_same_metrics(
    versioned_project, af_project, tmp_path: Path
) -> None:
    """A prompt flow project moves to Agent Framework: `llmops migrate-flow --all`, runs
    through `.venv-af`, and every sample keeps its metrics, which also equal the metrics
    of the hand-written Agent Framework twins (the judge the docs_chat twin adds aside)."""
    pf_path, pf_env, _ = versioned_project
    af_path, af_env = af_project
    project = tmp_path / "project"
    subprocess.run(
        ["cp", "-a", str(pf_path), str(project)], check=True, capture_output=True, text=True
    )
    for state in (".git", "reports", ".llmops", "use_cases/sentiment"):
        subprocess.run(["rm", "-rf", str(project / state)], check=True)
    commit_all(project, "a prompt flow project")
    (project / ".venv-af").symlink_to(af_path.parent / "venv")
    command = ["llmops", "experiment", "--offline", "--all", "--env", "pr"]
    run(command, project, pf_env)
    before = metric_values(project)
    assert before and all(key[0] in ALL_SAMPLES for key in before)
    migrated = run(["llmops", "migrate-flow", "--all"], project, pf_env)
    assert "Traceback" not in migrated.stdout + migrated.stderr
    assert not list(project.glob("use_cases/*/flows/*/flow.*.yaml")), migrated.stdout
    result = run(command, project, pf_env)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout[-3000:]
    assert metric_values(project) == before
    if not (af_path / "reports").is_dir():
        run(command, af_path, af_env)
    twins = {
        key: value
        for key, value in metric_values(af_path).items()
        if key[3] in {key[3] for key in before}
    }
    assert twins == before

"""Managed by the LLMOps template. ``llmops import-flow`` with flows that are not samples.

The flows are written here, file by file: a DAG flow (an LLM node with a Jinja2 prompt
and a connection, then a Python node) with an evaluation flow whose aggregation node
calls ``log_metric(key=..., value=...)``, and a flex flow with CSV data. The flow code
is written the way people write it (not to this project's strict lint rules), so the
tests also prove that ruff's ``use_cases/`` rules let it in unchanged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import write

from llmops import cli
from llmops.config import load_experiment
from llmops.engine import get_engine
from llmops.errors import LLMOpsError
from llmops.import_flow import derive_name, identifier, import_flow

SENTIMENT_FLOW = """\
$schema: https://azuremlschemas.azureedge.net/promptflow/latest/Flow.schema.json
inputs:
  review:
    type: string
  product:
    type: string
    default: the product
outputs:
  sentiment:
    type: string
    reference: ${parse.output}
nodes:
  - name: classify
    type: llm
    source:
      type: code
      path: classify.jinja2
    inputs:
      deployment_name: gpt-4o-mini
      temperature: 0
      max_tokens: 5
      review: ${inputs.review}
      product: ${inputs.product}
    connection: {connection}
    api: chat
  - name: parse
    type: python
    source:
      type: code
      path: parse.py
    inputs:
      answer: ${classify.output}
"""

PROMPT = """\
# system:
You classify the sentiment of product reviews. Answer with one word: positive, negative or neutral.

# user:
Product: {{product}}
Text: {{review}}
"""

# Written like user code, not to the template's rules: typing.List (UP), a one-line `if`
# (E701), single quotes (the formatter), a long comment line (E501).
PARSE = """\
from typing import List
from promptflow.core import tool

LABELS: List[str] = ['positive', 'negative', 'neutral']


@tool
def parse(answer: str) -> str:
{long_comment}
    word = answer.strip().lower()
    for label in LABELS:
        if label in word: return label
    return 'neutral'
""".replace("{long_comment}", "    # " + "the model may answer with a sentence, " * 3)

PARSE_TEST = """\
from parse import parse


def test_parse_finds_the_label():
    assert parse(" Positive. ") == "positive"
    assert parse("no idea") == "neutral"
"""

REVIEWS = """\
{"review": "The battery lasts all day and the screen is gorgeous.", "label": "positive"}
{"review": "It stopped working after two days.", "label": "negative"}
{"review": "Arrived on Tuesday in a brown box.", "label": "neutral"}
{"review": "Great value, I would buy it again.", "label": "positive"}
"""

EVALUATION_FLOW = """\
$schema: https://azuremlschemas.azureedge.net/promptflow/latest/Flow.schema.json
inputs:
  sentiment:
    type: string
  label:
    type: string
outputs:
  correct:
    type: int
    reference: ${match.output}
nodes:
  - name: match
    type: python
    source:
      type: code
      path: match.py
    inputs:
      sentiment: ${inputs.sentiment}
      label: ${inputs.label}
  - name: summarize
    type: python
    source:
      type: code
      path: summarize.py
    inputs:
      results: ${match.output}
    aggregation: true
"""

MATCH = """\
from promptflow.core import tool


@tool
def match(sentiment: str, label: str) -> int:
    return int(sentiment == label)
"""

SUMMARIZE = """\
from promptflow.core import log_metric, tool


@tool
def summarize(results: list) -> dict:
    accuracy = round(sum(results) / max(len(results), 1), 4)
    log_metric(key="accuracy", value=accuracy)
    return {"accuracy": accuracy}
"""

FLEX_FLOW = """\
$schema: https://azuremlschemas.azureedge.net/promptflow/latest/Flow.schema.json
entry: bot:answer
"""

FLEX_CODE = """\
def answer(question: str, tone: str = "friendly") -> str:
    return f"({tone}) {question}"
"""

QUESTIONS = """\
question,expected
How do I reset my password?,settings
"Where is my order, please?",tracking
Can I pay by invoice?,billing
Do you ship abroad?,shipping
"""


def sentiment_flow(folder: Path, connection: str = "aoai") -> Path:
    """The standard DAG flow and its data, as a user keeps them in their own repository."""
    write(folder / "flow.dag.yaml", SENTIMENT_FLOW.replace("{connection}", connection))
    write(folder / "classify.jinja2", PROMPT)
    write(folder / "parse.py", PARSE)
    write(folder / "test_parse.py", PARSE_TEST)
    write(folder / "data.jsonl", REVIEWS)
    write(folder / ".env", "AOAI_API_KEY=not-for-the-repository\n")
    write(folder / ".promptflow" / "flow.tools.json", "{}\n")
    return folder


def evaluation_flow(folder: Path) -> Path:
    write(folder / "flow.dag.yaml", EVALUATION_FLOW)
    write(folder / "match.py", MATCH)
    write(folder / "summarize.py", SUMMARIZE)
    return folder


@pytest.fixture
def incoming(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the project, like the user's own flow repository."""
    return tmp_path_factory.mktemp("incoming")


def files_under(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


def run_import(project: Path, source: Path, **options: Any) -> list[str]:
    """Import and return the validation problems (an empty list means ready to run)."""
    result = import_flow(project, source, get_engine(root=project), **options)
    return result.problems


# --- the DAG flow with its evaluation flow ---------------------------------------------


def test_dag_flow_with_evaluation_becomes_a_valid_use_case(project: Path, incoming: Path) -> None:
    source = sentiment_flow(incoming / "review-sentiment")
    judge = evaluation_flow(incoming / "sentiment-eval")
    result = import_flow(project, source, get_engine(root=project), evaluation=judge)

    assert result.problems == []
    case = project / "use_cases" / "review_sentiment"
    assert result.folder == case
    assert files_under(case) == [
        "data",
        "data/data.jsonl",
        "data/pr.jsonl",
        "experiment.pr.yaml",
        "experiment.yaml",
        "flows",
        "flows/evaluation",
        "flows/evaluation/flow.dag.yaml",
        "flows/evaluation/match.py",
        "flows/evaluation/summarize.py",
        "flows/standard",
        "flows/standard/classify.jinja2",
        "flows/standard/flow.dag.yaml",
        "flows/standard/parse.py",
        "flows/standard/test_parse.py",
        "sample-request.json",
    ]  # no .env, no .promptflow cache, no mock replies; the data moved to data/
    for name in ("flow.dag.yaml", "classify.jinja2", "parse.py"):
        assert (case / "flows/standard" / name).read_bytes() == (source / name).read_bytes()
    assert (case / "data/data.jsonl").read_text() == REVIEWS
    assert (case / "data/pr.jsonl").read_text() == "".join(REVIEWS.splitlines(True)[:3])
    request = json.loads((case / "sample-request.json").read_text())
    assert request == {"review": "The battery lasts all day and the screen is gorgeous."}
    assert result.tests == ["flows/standard/test_parse.py"]

    config = load_experiment(case, None)
    assert config.name == "review_sentiment"
    assert config.connections == ["aoai"]
    assert config.datasets[0].mappings == {"review": "${data.review}"}
    (evaluator,) = config.evaluators
    assert evaluator.flow == "flows/evaluation"
    assert evaluator.datasets[0].mappings == {
        "sentiment": "${run.outputs.sentiment}",
        "label": "${data.label}",
    }
    assert config.gates == {"sentiment_eval.accuracy": ">= 0"}
    overlay = load_experiment(case, "pr")
    assert overlay.datasets[0].source == "data/pr.jsonl"
    assert overlay.variants == "defaults"
    text = (case / "experiment.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schemas/experiment.schema.json")
    assert "docs/experiments.md" in text


def test_the_cli_prints_what_it_created_and_what_to_run(
    project: Path, incoming: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = sentiment_flow(incoming / "review-sentiment")
    judge = evaluation_flow(incoming / "sentiment-eval")
    code = cli.main(["import-flow", str(source), "--evaluation", str(judge), "--name", "reviews"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    out = captured.out
    assert "[import-flow] created use_cases/reviews" in out
    assert "metrics: accuracy" in out
    assert "flows/standard/test_parse.py" in out
    assert "llmops experiment --offline --use-case reviews --env pr" in out
    assert "migrate-flow" not in out or promptflow_missing()
    assert cli.main(["validate", "--use-case", "reviews", "--env", "pr"]) == 0


def promptflow_missing() -> bool:
    from llmops.engine.promptflow_engine import promptflow_installed

    return not promptflow_installed()


def test_an_agent_framework_project_is_told_to_migrate_an_imported_flow(
    project: Path, incoming: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setattr(cli, "promptflow_installed", lambda: False)
    source = sentiment_flow(incoming / "review-sentiment")
    assert cli.main(["import-flow", str(source), "--name", "reviews"]) == 0
    assert "commit, then `llmops migrate-flow reviews` converts" in capsys.readouterr().out


def test_validation_problems_are_reported_after_the_import(
    project: Path, incoming: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A flow whose connection this project lacks is imported, then the fix is named."""
    source = sentiment_flow(incoming / "chat", connection="open_ai_connection")
    assert cli.main(["import-flow", str(source)]) == 2
    err = capsys.readouterr().err
    assert "'open_ai_connection' is not in config/connections.yaml" in err
    assert "set `connection:` (and the deployment) of those nodes to one of aoai, oai" in err
    assert all(line.startswith(("error: ", "warning: ")) for line in err.splitlines())
    assert (project / "use_cases/chat/experiment.yaml").is_file()


def test_imported_flow_code_passes_the_projects_ruff(
    project: Path, incoming: Path, pytestconfig: pytest.Config
) -> None:
    """Lint rules for use_cases/ are the bug-catching ones; the formatter leaves it alone."""
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    config = pytestconfig.rootpath / "ruff.toml"
    if ruff is None or not config.is_file():
        pytest.skip("ruff or the project's ruff.toml is not available")
    shutil.copy(config, project / "ruff.toml")
    run_import(
        project, sentiment_flow(incoming / "reviews"), evaluation=evaluation_flow(incoming / "eval")
    )
    for command in (["check", "use_cases"], ["format", "--check", "."]):
        done = subprocess.run([ruff, *command], cwd=project, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    write(project / "use_cases/reviews/flows/standard/broken.py", "print(undefined_name)\n")
    done = subprocess.run([ruff, "check", "use_cases"], cwd=project, capture_output=True, text=True)
    assert "F821" in done.stdout  # real bugs are still caught


def test_flow_tests_are_collected_by_the_projects_pytest(
    project: Path, incoming: Path, pytestconfig: pytest.Config
) -> None:
    assert "use_cases" in pytestconfig.getini("testpaths")
    write(project / "tests" / "test_parse.py", "def test_nothing():\n    pass\n")
    result = import_flow(project, sentiment_flow(incoming / "reviews"), get_engine(root=project))
    assert result.tests == ["flows/standard/test_parse.py"]
    assert result.notes == [
        "use_cases/reviews/flows/standard/test_parse.py: pytest cannot collect two test files "
        "named test_parse.py (the other: tests/test_parse.py); rename one"
    ]


# --- a flex flow with CSV data -------------------------------------------------------------


def test_flex_flow_with_csv_data(project: Path, incoming: Path) -> None:
    source = incoming / "faq bot"
    write(source / "flow.flex.yaml", FLEX_FLOW)
    write(source / "bot.py", FLEX_CODE)
    write(source / "data" / "questions.csv", QUESTIONS)
    result = import_flow(project, source / "flow.flex.yaml", get_engine(root=project))

    assert result.problems == []
    case = project / "use_cases" / "faq_bot"
    assert not (case / "flows/standard/data").exists()  # the dataset lives in data/ only
    rows = [json.loads(line) for line in (case / "data/questions.jsonl").read_text().splitlines()]
    assert rows[1] == {"question": "Where is my order, please?", "expected": "tracking"}
    assert len((case / "data/pr.jsonl").read_text().splitlines()) == 3
    config = load_experiment(case, "pr")
    assert config.connections == []
    assert config.evaluators == []
    assert config.datasets[0].name == "questions"
    assert config.datasets[0].mappings == {"question": "${data.question}"}  # tone has a default
    text = (case / "experiment.yaml").read_text()
    assert "# evaluators:" in text and "\ngates:" not in text  # commented examples only
    assert yaml.safe_load(text)["flow"] == "flows/standard"


def test_unknown_metrics_leave_the_gates_as_comments(project: Path, incoming: Path) -> None:
    judge = evaluation_flow(incoming / "eval")
    write(judge / "summarize.py", SUMMARIZE.replace('key="accuracy"', "key=NAME"))
    run_import(project, sentiment_flow(incoming / "reviews"), evaluation=judge)
    text = (project / "use_cases/reviews/experiment.yaml").read_text()
    assert "\ngates:" not in text
    assert '#   eval.accuracy: ">= 0.7"' in text


# --- refusals write nothing --------------------------------------------------------------


def test_no_data_asks_for_data_and_writes_nothing(project: Path, incoming: Path) -> None:
    source = sentiment_flow(incoming / "reviews")
    (source / "data.jsonl").unlink()
    before = files_under(project)
    with pytest.raises(LLMOpsError, match=r"no data found .* --data PATH .*nothing was written"):
        run_import(project, source)
    assert files_under(project) == before


def test_data_without_the_flows_inputs_is_not_taken(project: Path, incoming: Path) -> None:
    source = sentiment_flow(incoming / "reviews")
    (source / "data.jsonl").write_text('{"text": "wrong column"}\n')
    with pytest.raises(LLMOpsError, match=r"data\.jsonl has no column review"):
        run_import(project, source)
    write(incoming / "elsewhere.jsonl", '{"review": "Fine.", "label": "neutral"}\n')
    assert run_import(project, source, data=incoming / "elsewhere.jsonl") == []
    assert (project / "use_cases/reviews/data/elsewhere.jsonl").is_file()


def test_an_existing_name_is_refused_and_nothing_is_written(
    project: Path, incoming: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = sentiment_flow(incoming / "reviews")
    before = files_under(project)
    assert cli.main(["import-flow", str(source), "--name", "demo"]) == 2
    assert capsys.readouterr().err == "error: use_cases/demo already exists: pick another name\n"
    with pytest.raises(LLMOpsError, match="not usable as a use-case name"):
        run_import(project, source, name="bad name")
    assert files_under(project) == before


def test_a_folder_that_is_not_a_flow_is_refused(project: Path, incoming: Path) -> None:
    write(incoming / "notes" / "README.md", "# Not a flow\n")
    write(incoming / "notes" / "data.jsonl", REVIEWS)
    before = files_under(project)
    with pytest.raises(LLMOpsError, match="not a prompt flow folder"):
        run_import(project, incoming / "notes")
    with pytest.raises(LLMOpsError, match="folder not found"):
        run_import(project, incoming / "missing")
    source = sentiment_flow(incoming / "reviews")
    with pytest.raises(LLMOpsError, match="not a prompt flow folder"):
        run_import(project, source, evaluation=incoming / "notes")
    assert files_under(project) == before


def test_names_derived_from_folders() -> None:
    assert identifier("My Flow (v2)", "flow") == "my_flow_v2"
    assert identifier("2024-chat", "flow") == "flow_2024_chat"
    assert identifier("---", "flow") == "flow"
    assert derive_name(Path("/repos/chat-bot/flows/standard")) == "chat_bot"
    assert derive_name(Path("/repos/Support Triage")) == "support_triage"

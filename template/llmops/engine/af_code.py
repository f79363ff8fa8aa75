"""Managed by the LLMOps template. Load user functions of Agent Framework use cases.

A flow folder is imported as a package of its own (a unique name per run, dropped
afterwards), so its modules can import each other relatively (``from .helpers import
x``) and two folders with a ``utils.py`` each never see one another's. Errors raised
by user code are reported at the user's own file and line, not in llmops.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import re
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from llmops.engine.af_manifest import split_reference
from llmops.errors import LLMOpsError
from llmops.paths import relative

_COUNTER = itertools.count()


@contextmanager
def flow_package(flow_dir: Path) -> Iterator[str]:
    """A fresh package whose modules are the folder's ``.py`` files, for a ``with`` block."""
    name = f"_llmops_flow_{next(_COUNTER)}_{re.sub(r'[^A-Za-z0-9_]', '_', flow_dir.name)}"
    package = types.ModuleType(name)
    package.__path__ = [str(flow_dir.resolve())]
    package.__package__ = name
    sys.modules[name] = package
    try:
        yield name
    finally:
        for module in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
            del sys.modules[module]


def load_function(package: str, reference: str, flow_dir: Path, root: Path) -> Callable[..., Any]:
    """The function a manifest names (``file.py:function``), imported from the package."""
    file_name, function = split_reference(reference)
    path = flow_dir / file_name
    shown = relative(path, root)
    if not path.is_file():
        raise LLMOpsError(f"{shown}: file not found (named by `{reference}`)")
    module_name = f"{package}.{file_name[:-3].replace('/', '.')}"
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as error:
        where = f"{relative(Path(error.filename or path), root)}:{error.lineno}"
        raise LLMOpsError(f"{where}: syntax error: {error.msg}") from None
    except Exception as error:
        raise LLMOpsError(f"{shown}: import failed: {user_error(error, flow_dir, root)}") from None
    found = getattr(module, function, None)
    if not callable(found):
        raise LLMOpsError(f"{shown}: no function `{function}` (named by `{reference}`)")
    return found


def user_error(error: BaseException, flow_dir: Path, root: Path) -> str:
    """``<file>:<line>: <Type>: <message>`` at the deepest frame in the flow folder."""
    folder = str(flow_dir.resolve())
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith(folder):
            where = f"{relative(Path(frame.filename), root)}:{frame.lineno}: "
    message = str(error) or repr(error)
    if isinstance(error, LLMOpsError):
        return f"{where}{message}"
    return f"{where}{type(error).__name__}: {message}"

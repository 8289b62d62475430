"""The pure core (models/core) loads nothing of the edges: no database, Redis, web framework,
WeChat SDK or queue, and no other part of the project. Each module is imported alone in a
fresh interpreter, so one module's imports cannot hide another's."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import models.core

PROJECT = Path(__file__).resolve().parents[3]
OUTSIDE = {"sqlalchemy", "redis", "flask", "wechatpy", "rq", "werkzeug", "fakeredis", "psycopg"}
# Calendar data the working-day calendar reads (and what those packages need).
DATA_PACKAGES = {"chinese_calendar", "holidays", "dateutil", "six"}
CORE_MODULES = sorted(
    info.name for info in pkgutil.iter_modules(models.core.__path__, "models.core.")
)
# What the import adds to a fresh interpreter (site's own start-up modules are left out).
PROBE = """
import importlib, json, sys
before = set(sys.modules)
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_core_has_the_modules_the_design_names():
    names = {name.rsplit(".", 1)[1] for name in CORE_MODULES}
    assert {"workflow", "sla", "workcalendar", "conversation", "commands", "phones"} <= names
    assert {"rating_policy", "deadline_policy", "replies", "labels", "comment"} <= names


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_nothing_from_the_edges(module):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(done.stdout)
    tops = {name.split(".")[0] for name in loaded}
    assert tops & OUTSIDE == set()
    third_party = {name for name in tops if not name.startswith("_sysconfigdata")}
    third_party -= set(sys.stdlib_module_names) | {"__main__", "models"} | DATA_PACKAGES
    assert third_party == set(), f"{module} loads {sorted(third_party)}"
    project = [name for name in loaded if name.split(".")[0] in {"bot", "handlers", "jobs"}]
    assert project == []
    other_models = [
        name for name in loaded if name.startswith("models.") and not name.startswith("models.core")
    ]
    assert other_models == []

"""Model artifacts: the default support model built once per machine behind a lock, the store's
own model first, and nothing unpickled from another scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storeops.artifacts import StaleArtifact, current_artifact, load_artifact, save_artifact
from storeops.desks.orders.risk import describe_risk_model
from storeops.desks.support import models as support_models_module
from storeops.desks.support.nlu import SupportModels

BUILDER = """
import sys, time
from pathlib import Path
from storeops.artifacts import build_once

log = Path(sys.argv[2])

def build():
    with log.open("a") as handle:
        handle.write("building\\n")
    time.sleep(2)
    return {"answer": 42}

def say(line):
    print(line, file=sys.stderr, flush=True)

info, built = build_once(Path(sys.argv[1]), "thing", "v1", build, report=say, what="the thing")
print("built" if built else "loaded", info.version, flush=True)
"""


@pytest.mark.slow
def test_of_two_processes_needing_a_missing_artifact_one_builds_it_and_the_other_waits(tmp_path: Path) -> None:
    target, log = tmp_path / "cache" / "thing-v1.pkl", tmp_path / "builds.log"
    command = [sys.executable, "-c", BUILDER, str(target), str(log)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not log.exists():  # the first holds the lock and is building
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out_first, _ = first.communicate(timeout=60)
    out_second, err_second = second.communicate(timeout=60)
    assert (first.returncode, second.returncode) == (0, 0)
    assert log.read_text() == "building\n"  # built once
    assert (out_first.strip(), out_second.strip()) == ("built v1", "loaded v1")
    assert "another storeops process is building the thing; waiting for it" in err_second
    meta = json.loads(target.with_suffix(".json").read_text())
    assert meta["version"] == "v1" and meta["build_seconds"] >= 2
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def _age(artifact: Path, sklearn: str) -> None:
    meta_path = artifact.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "sklearn_version": sklearn}))


def test_an_artifact_from_another_scikit_learn_is_refused_not_half_loaded(tmp_path: Path) -> None:
    path = save_artifact(tmp_path, "orders-risk", "r1", {"estimator": None, "version": "r1", "medians": {}})
    assert load_artifact(tmp_path, "orders-risk") is not None
    assert describe_risk_model(tmp_path)["source"] == "store"
    _age(path, "0.24.2")
    info = current_artifact(tmp_path, "orders-risk")
    assert info is not None and info.stale
    with pytest.raises(StaleArtifact, match=r"trained with scikit-learn 0\.24\.2"):
        load_artifact(tmp_path, "orders-risk")
    described = describe_risk_model(tmp_path)
    assert described["source"] == "rules" and "storeops models train orders-risk" in described["note"]


def test_the_store_s_own_support_model_wins_and_a_stale_one_gives_way_to_the_default(
    tmp_path: Path, model_cache: Path, support_models: SupportModels
) -> None:
    store = tmp_path / "models"
    choice = support_models_module.choose(store, model_cache)
    assert (choice.source, choice.ready) == ("default", True)
    assert choice.as_json()["data_digest"] == support_models_module.data_digest()

    saved = SupportModels(support_models.intent, support_models.sentiment, "own-1").save(store)
    assert support_models_module.choose(store, model_cache).source == "store"
    loaded = support_models_module.load_for_store(store, model_cache)
    assert (loaded.source, loaded.version) == ("store", "own-1")

    _age(saved, "0.24.2")
    said: list[str] = []
    stale = support_models_module.choose(store, model_cache)
    assert stale.source == "default" and "retrain it with storeops models train support-nlu" in stale.note
    loaded = support_models_module.load_for_store(store, model_cache, report=said.append)
    assert loaded.source == "default" and loaded.version == support_models_module.default_version()
    assert len(said) == 1 and "not using the store's own support-nlu own-1" in said[0]


def test_a_machine_without_the_default_says_so_without_building_it(tmp_path: Path) -> None:
    choice = support_models_module.choose(tmp_path / "models", tmp_path / "empty-cache")
    assert (choice.source, choice.ready, choice.as_json()["path"]) == ("default", False, None)
    assert "trained from the shipped data on first use" in choice.note
    assert not (tmp_path / "empty-cache").exists()


def test_the_default_s_version_follows_the_data_and_the_training_code() -> None:
    version = support_models_module.default_version()
    assert version.startswith("default-") and len(version) == len("default-") + 12
    assert support_models_module.default_version() == version  # the same release gives the same version
    path = support_models_module.default_path(Path("/cache"))
    assert path.name.startswith(f"support-nlu-{version}-sklearn") and path.suffix == ".pkl"

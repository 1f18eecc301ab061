"""Training the desks' models on the store's own decisions or the shipped data."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from storeops.bootstrap import App
from storeops.cli.app import _app, _errors, models_app
from storeops.cli.output import console, err_console
from storeops.errors import InvalidInput
from storeops.storage.db import read_only


class ModelName(StrEnum):
    orders_risk = "orders-risk"
    support_nlu = "support-nlu"
    returns_reasons = "returns-reasons"


@models_app.command("train")
def models_train(
    name: Annotated[ModelName, typer.Argument(help="Which model.")],
    min_each: Annotated[int, typer.Option(min=2, help="Fewest approved and rejected orders to train on.")] = 10,
    default: Annotated[
        bool,
        typer.Option(
            "--default",
            help="support-nlu only: build the machine-wide default in STOREOPS_CACHE_DIR (once per release and "
            "scikit-learn; a build step for images) instead of the store's own.",
        ),
    ] = False,
) -> None:
    """Train a model and make it current; its version is recorded on every decision it makes.

    orders-risk learns from people's resolutions (approved order = legitimate, rejected = fraud);
    support-nlu learns intents and sentiment from the data storeops ships — without it a store
    answers with the default built from the same data (storeops status shows which);
    returns-reasons learns return reasons from the shipped examples plus every correction people
    made to the desk's reading (a resolution's reason_category)."""
    import time

    with _errors():
        if default and name is not ModelName.support_nlu:
            raise InvalidInput(
                f"--default goes with support-nlu: {name.value} is learnt from the store's own decisions"
            )
        if default:
            from storeops.desks.support.models import default_models, default_path
            from storeops.settings import load_settings

            cache_dir = load_settings().cache_dir
            started = time.perf_counter()
            models = default_models(cache_dir, report=lambda line: err_console.print(line, highlight=False))
            console.print(
                f"support-nlu {models.version} is ready at {default_path(cache_dir)} "
                f"({time.perf_counter() - started:.1f} s)",
                highlight=False,
            )
            return
        application = _app()
        started = time.perf_counter()
        if name is ModelName.support_nlu:
            path, summary = _train_support(application)
        elif name is ModelName.returns_reasons:
            from storeops.desks.returns.models import train_for_store

            with read_only(application.engine).connect() as conn:
                path, summary = train_for_store(conn, application.settings.models_dir)
        else:
            from storeops.desks.orders.training import train_from_resolutions

            where = application.engine.url.render_as_string(hide_password=True)
            err_console.print(f"training {name.value} from resolved order handoffs in {where} …")
            with read_only(application.engine).connect() as conn:
                model, data = train_from_resolutions(conn, min_each=min_each)
            path = model.save(application.settings.models_dir)
            summary = f"version {model.version} on {data.rejected} rejected and {data.approved} approved orders"
        console.print(
            f"trained {name.value} {summary} in {time.perf_counter() - started:.1f} s; saved to {path} and made current"
        )


def _train_support(application: App) -> tuple[Path, str]:
    from storeops.desks.support.nlu import train_support_models

    err_console.print(
        "training support-nlu: intents on 6,480 Bitext utterances, sentiment on 2,000 UCI review sentences "
        "plus Bitext requests (about 30 s) …"
    )
    version = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    models = train_support_models(version)
    return models.save(application.settings.models_dir), f"version {version}"

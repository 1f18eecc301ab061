"""Regenerate docs/screenshots/{inbox,dashboard}.png from a simulated store:

    .venv/bin/python scripts/screenshots.py [--days 30]

Runs `make demo`'s simulation (30 days ending today) into a temporary database, signs an owner
in with Debian's chromium (Playwright, headless) and photographs the inbox and the dashboard of
the last 30 days.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
PASSWORD = "screenshot-password"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    chromium = os.environ.get("STOREOPS_CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        raise SystemExit("no chromium; run 'make browser' (Debian's chromium package) first")
    with tempfile.TemporaryDirectory() as directory:
        env = {
            **os.environ,
            "STOREOPS_DATABASE_URL": f"sqlite:///{directory}/storeops.db",
            "STOREOPS_OUTBOX_DIR": f"{directory}/outbox",
            "STOREOPS_MODELS_DIR": os.environ.get("STOREOPS_MODELS_DIR", str(REPO / "storeops-models")),
        }
        storeops = [sys.executable, "-m", "storeops.cli.main"]
        subprocess.run([*storeops, "demo", "--days", str(args.days), "--no-serve"], env=env, check=True)
        subprocess.run(
            [*storeops, "users", "add", "owner@example.com", "--role", "owner", "--password-stdin"],
            env=env,
            input=PASSWORD + "\n",
            text=True,
            check=True,
        )
        os.environ.update(env)
        _photograph(chromium, args.days)


def _photograph(chromium: str, days: int) -> None:
    from playwright.sync_api import sync_playwright
    from tests.conftest import served
    from tests.e2e.conftest import CHROMIUM_FLAGS

    from storeops.bootstrap import bootstrap
    from storeops.web.app import create_app

    application = bootstrap()
    OUT.mkdir(parents=True, exist_ok=True)
    with served(create_app(application)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(base + "/login")
        page.fill("input[name=email]", "owner@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/inbox")
        page.screenshot(path=str(OUT / "inbox.png"))
        page.goto(base + f"/dashboard?days={max(30, days)}")
        page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
        page.goto("about:blank")
        browser.close()
    print(f"wrote {OUT / 'inbox.png'} and {OUT / 'dashboard.png'}")


if __name__ == "__main__":
    main()

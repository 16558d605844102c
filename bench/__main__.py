"""`python -m bench [NAME]`: run every benchmark, or the one named (store, ops, import,
lifecycle, throughput, latency, api, crash, assets, synth, cost, eta, ui, budgets)."""

import argparse
from collections.abc import Callable


def _store() -> None:
    from bench import store_calls  # imported late: it loads moto and boto3

    store_calls.main()


def _ops() -> None:
    from bench import sqlite_ops

    sqlite_ops.main()


def _import() -> None:
    from bench import import_time

    import_time.main()


def _lifecycle() -> None:
    from bench import lifecycle

    lifecycle.main()


def _throughput() -> None:
    from bench import local_throughput

    local_throughput.main()


def _latency() -> None:
    from bench import dispatch_latency

    dispatch_latency.main()


def _api() -> None:
    from bench import api_latency  # starts `jobsched local` twice, as processes

    api_latency.main()


def _crash() -> None:
    from bench import crash  # kills and restarts `jobsched local` some 26 times

    crash.main()


def _assets() -> None:
    from bench import asset_sizes  # builds the Lambda asset if it is missing

    asset_sizes.main()


def _synth() -> None:
    from bench import synth_time

    synth_time.main()


def _cost() -> None:
    from bench import state_machine_cost  # synthesises the app, runs it under moto

    state_machine_cost.main()


def _eta() -> None:
    from bench import eta_calibration

    eta_calibration.main()


def _ui() -> None:
    from bench import ui_queue  # serves the app with uvicorn, drives Chromium with Playwright

    ui_queue.main()


def _budgets() -> None:
    from bench import budget_calls  # loads moto and boto3

    budget_calls.main()


BENCHMARKS: dict[str, Callable[[], None]] = {
    "store": _store,
    "ops": _ops,
    "import": _import,
    "lifecycle": _lifecycle,
    "throughput": _throughput,
    "latency": _latency,
    "api": _api,
    "crash": _crash,
    "assets": _assets,
    "synth": _synth,
    "cost": _cost,
    "eta": _eta,
    "ui": _ui,
    "budgets": _budgets,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("which", nargs="?", choices=[*BENCHMARKS, "all"], default="all")
    args = parser.parse_args(argv)
    chosen = list(BENCHMARKS) if args.which == "all" else [args.which]
    for index, name in enumerate(chosen):
        if index:
            print()
        BENCHMARKS[name]()


if __name__ == "__main__":
    main()

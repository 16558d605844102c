"""`python -m bench [store|import|lifecycle|throughput|latency|assets|synth]`: run every
benchmark, or the one named."""

import argparse
from collections.abc import Callable


def _store() -> None:
    from bench import store_calls  # imported late: it loads moto and boto3

    store_calls.main()


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


def _assets() -> None:
    from bench import asset_sizes  # builds the Lambda asset if it is missing

    asset_sizes.main()


def _synth() -> None:
    from bench import synth_time

    synth_time.main()


BENCHMARKS: dict[str, Callable[[], None]] = {
    "store": _store,
    "import": _import,
    "lifecycle": _lifecycle,
    "throughput": _throughput,
    "latency": _latency,
    "assets": _assets,
    "synth": _synth,
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

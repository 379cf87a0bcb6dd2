"""``python -m jupyter_session_monitor.emulator serve --port PORT ...``"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from .server import Emulator, EmulatorConfig


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {value}")
    return number


ADMIN_API = """\
Controls for tests and demos (not part of the service's API), on the same port:
  GET /emulator/requests        the requests served (method, path, status, time, User-Agent)
  POST /emulator/faults         inject latency, hangs, HTTP errors or expired tokens
  GET /emulator/state           every session's body
  POST /emulator/clock          move the service's clock forward: {"advance": SECONDS}
See docs/emulator.md in the project for every field, and for the realism options."""


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {value}")
    return number


def _page_limit(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {value}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return number


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m jupyter_session_monitor.emulator",
        description="A local emulator of the IBM Qiskit Runtime service, for the unmodified "
        "qiskit-ibm-runtime client. No IBM account needed.",
        epilog=ADMIN_API,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the emulated service until interrupted",
        epilog=ADMIN_API,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument(
        "--port", type=int, default=8765, help="port to listen on (0: any free port)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: loopback only)"
    )
    serve.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        help="multiply every duration (TTLs, job run time, the 30-minute rule) by F; "
        "the API reports the scaled values",
    )
    serve.add_argument(
        "--job-seconds",
        type=_positive,
        default=3.0,
        help="unscaled run time of one job (default 3)",
    )
    serve.add_argument(
        "--instance-limit",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="unscaled billed seconds the instance may use per usage period (default: no "
        "limit); once used, jobs wait in the queue until the next period",
    )
    serve.add_argument(
        "--usage-period",
        type=_positive,
        default=30 * 24 * 3600.0,
        metavar="SECONDS",
        help="unscaled length of a usage period (default 30 days)",
    )
    serve.add_argument(
        "--plan",
        choices=("premium", "open"),
        default="premium",
        help="instance plan; an Open Plan instance cannot create sessions",
    )
    realism = serve.add_argument_group(
        "realism",
        "make the service imperfect as the real one is (docs/emulator.md); real seconds, "
        "not scaled by --time-scale",
    )
    realism.add_argument(
        "--transition-lag",
        type=_non_negative,
        default=0.0,
        metavar="SECONDS",
        help="apply the interactive-TTL deactivation, the no-job close and the max-TTL close "
        "this many seconds after they fall due (a periodic reaper); until then the session "
        "says its old state",
    )
    realism.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="run the service's clock this far from the host's (negative: behind); every "
        "timestamp and the HTTP Date header follow it",
    )
    realism.add_argument(
        "--usage-report-period",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="refresh elapsed_time, usage, job usage and instance usage at most this often "
        "(default: live)",
    )
    realism.add_argument(
        "--jobs-page-limit",
        type=_page_limit,
        default=None,
        metavar="N",
        help="return at most N jobs per GET /jobs page, whatever limit asks (default: as asked)",
    )
    serve.add_argument(
        "--env-file",
        type=Path,
        help="write the client's environment (JSON) here once listening",
    )
    return main


async def serve(args: argparse.Namespace) -> None:
    emulator = Emulator(
        EmulatorConfig(
            host=args.host,
            port=args.port,
            time_scale=args.time_scale,
            job_seconds=args.job_seconds,
            instance_limit=args.instance_limit,
            usage_period=args.usage_period,
            plan=args.plan,
            transition_lag=args.transition_lag,
            clock_offset=args.clock_offset,
            usage_report_period=args.usage_report_period,
            jobs_page_limit=args.jobs_page_limit,
        )
    )
    emulator.start()
    environment = emulator.client_environment()
    if args.env_file is not None:
        temporary = args.env_file.with_name(args.env_file.name + ".tmp")
        temporary.write_text(json.dumps(environment, indent=2) + "\n")
        os.replace(temporary, args.env_file)  # readers never see half a file
    exports = "\n".join(f"  export {k}={v}" for k, v in environment.items())
    print(
        f"Qiskit Runtime emulator listening on {emulator.url} "
        f"(plan {args.plan}, time scale {args.time_scale:g}, job {args.job_seconds:g} s"
        + (f", instance limit {args.instance_limit:g} s" if args.instance_limit else "")
        + (f", transitions {args.transition_lag:g} s late" if args.transition_lag else "")
        + (f", clock {args.clock_offset:+g} s" if args.clock_offset else "")
        + (
            f", usage reported every {args.usage_report_period:g} s"
            if args.usage_report_period
            else ""
        )
        + (f", {args.jobs_page_limit} jobs per page" if args.jobs_page_limit else "")
        + ")\n"
        f"Point an unmodified QiskitRuntimeService() at it with:\n{exports}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        asyncio.run(serve(args))
    except OSError as error:
        print(f"error: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

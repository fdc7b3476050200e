"""Serve the course's fault-injecting HTTP service on 127.0.0.1 until Ctrl+C.

python -m coursekit.service --port 0 --seed 7 --error-rate 0.2 --latency 0.05
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from coursekit.service.app import Service
from coursekit.service.faults import Faults, Latency, RateLimit
from coursekit.service.live import serve_live


def service_from(argv: list[str]) -> tuple[Service, int]:
    parser = argparse.ArgumentParser(prog="python -m coursekit.service", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same faults")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--error-rate", type=float, default=0.0, help="probability of a 500/503")
    parser.add_argument("--hang-rate", type=float, default=0.0, help="probability of no answer at all")
    parser.add_argument("--outage", type=float, nargs=2, action="append", default=[], metavar=("START", "END"))
    parser.add_argument("--rate-limit", type=float, nargs=2, metavar=("LIMIT", "WINDOW"), help="429 past it")
    args = parser.parse_args(argv)
    limit = RateLimit(int(args.rate_limit[0]), args.rate_limit[1]) if args.rate_limit else None
    faults = Faults(
        latency=Latency.fixed(args.latency),
        error_rate=args.error_rate,
        hang_rate=args.hang_rate,
        outages=tuple((start, end) for start, end in args.outage),
        rate_limit=limit,
    )
    return Service(seed=args.seed, faults=faults), args.port


def main(argv: list[str]) -> int:
    service, port = service_from(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    with serve_live(service, port=port) as url:
        print(f"serving the course's HTTP service on {url} (Ctrl+C to stop)", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run moto's server with the motoext patches applied in this process.

    python -m lfm_testbed.motoext.server -H 127.0.0.1 -p PORT

Arguments are moto_server's own (``moto.server.main``).
"""

from __future__ import annotations

import sys

from lfm_testbed.motoext import apply_all


def main(argv: list[str] | None = None) -> None:
    apply_all()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()

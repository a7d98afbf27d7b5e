"""CLI of the test bed: ``python -m lfm_testbed COMMAND`` (PYTHONPATH=<repo>/testbed,
run with the venv python from scripts/bootstrap).

  up        install what is missing (Terraform 1.0.3, OpenTofu built with Go, OpenSearch)
            and start moto and OpenSearch on free loopback ports; a healthy service recorded
            in the state file is reused. Writes $LFM_CACHE/run/testbed.json:
            {"moto": {url,pid,log}, "opensearch": {url,pid,log}, "terraform": path,
             "opentofu": path, "webhook": {url,pid,log,ca_file,secret}}
            (webhook: the HTTPS alert receiver, lfm_testbed.webhook_receiver)
            Options: --no-opensearch (moto and the clients only), --no-opentofu (skip the
            OpenTofu build: minutes on a fresh machine, seconds with a warm Go cache).
  down      stop, by PID, the services the state file records
  status    print each recorded service and whether it is healthy (exit 1 if not all are)
  env       print `export LFM_MOTO_URL=... LFM_OPENSEARCH_URL=... LFM_TERRAFORM=... LFM_TOFU=...
            LFM_WEBHOOK_URL=... LFM_WEBHOOK_CA_FILE=... LFM_WEBHOOK_SECRET=...` lines
            (eval "$(python -m lfm_testbed env)")
  simulate  build a fleet in moto and write the ground truth (see lfm_testbed.simulator)
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from . import cache, moto_server, opentofu, terraform, webhook_receiver


def _opensearch():
    from . import opensearch  # written by another part of the project

    return opensearch


def _log(msg: str) -> None:
    print(f"lfm_testbed: {msg}", file=sys.stderr)


def _moto_alive(entry: dict | None) -> bool:
    return bool(entry) and moto_server.is_ours(int(entry.get("pid", 0))) and \
        moto_server.is_healthy(entry.get("url", ""))


def _opensearch_alive(entry: dict | None) -> bool:
    if not entry:
        return False
    try:
        import os

        os.kill(int(entry.get("pid", 0)), 0)
    except (OSError, ValueError):
        return False
    return bool(_opensearch().is_healthy(entry.get("url", "")))


def _webhook_alive(entry: dict | None) -> bool:
    return bool(entry) and webhook_receiver.is_ours(int(entry.get("pid", 0))) and \
        webhook_receiver.is_healthy(entry.get("url", ""), entry.get("ca_file", ""))


def cmd_up(args) -> int:
    c = cache.cache_dir()
    run = cache.run_dir(c)
    state = cache.read_state(c)

    t0 = time.monotonic()
    state["terraform"] = str(terraform.ensure_installed(c))
    _log(f"terraform {state['terraform']} ({time.monotonic() - t0:.1f} s)")
    if not args.no_opentofu:
        t0 = time.monotonic()
        state["opentofu"] = str(opentofu.ensure_installed(c, log=_log))
        _log(f"opentofu {state['opentofu']} ({time.monotonic() - t0:.1f} s)")

    if _moto_alive(state.get("moto")):
        _log(f"moto reused at {state['moto']['url']}")
    else:
        t0 = time.monotonic()
        state["moto"] = moto_server.start(run)
        _log(f"moto started at {state['moto']['url']} ({time.monotonic() - t0:.1f} s)")
    cache.write_state(state, c)

    if _webhook_alive(state.get("webhook")):
        _log(f"webhook receiver reused at {state['webhook']['url']}")
    else:
        state["webhook"] = webhook_receiver.start(c, run)
        _log(f"webhook receiver started at {state['webhook']['url']}")
    cache.write_state(state, c)

    if not args.no_opensearch:
        if _opensearch_alive(state.get("opensearch")):
            _log(f"opensearch reused at {state['opensearch']['url']}")
        else:
            t0 = time.monotonic()
            os_mod = _opensearch()
            os_mod.ensure_installed(c)
            state["opensearch"] = os_mod.start(c, run)
            _log(f"opensearch started at {state['opensearch']['url']} ({time.monotonic() - t0:.1f} s)")
        cache.write_state(state, c)
    print(json.dumps(state, indent=2, sort_keys=True))
    return 0


def cmd_down(args) -> int:
    c = cache.cache_dir()
    state = cache.read_state(c)
    moto = state.pop("moto", None)
    if moto:
        stopped = moto_server.stop(int(moto["pid"]))
        _log(f"moto pid {moto['pid']} {'stopped' if stopped else 'was not running'}")
    hook = state.pop("webhook", None)
    if hook:
        stopped = webhook_receiver.stop(int(hook["pid"]))
        _log(f"webhook receiver pid {hook['pid']} {'stopped' if stopped else 'was not running'}")
    os_entry = state.pop("opensearch", None)
    if os_entry:
        _opensearch().stop(int(os_entry["pid"]))
        _log(f"opensearch pid {os_entry['pid']} stopped")
    cache.write_state(state, c)
    return 0


def cmd_status(args) -> int:
    state = cache.read_state()
    ok = True
    for name, alive in (("moto", _moto_alive), ("webhook", _webhook_alive), ("opensearch", _opensearch_alive)):
        entry = state.get(name)
        if not entry:
            print(f"{name}: not started")
            ok = False
            continue
        healthy = alive(entry)
        ok &= healthy
        print(f"{name}: {'healthy' if healthy else 'DOWN'} url={entry.get('url')} "
              f"pid={entry.get('pid')} log={entry.get('log')}")
    tf = state.get("terraform")
    tf_ok = bool(tf) and terraform.version_ok(Path(tf))
    ok &= tf_ok
    print(f"terraform: {tf if tf else 'not installed'}{'' if tf_ok else ' (missing)'}")
    tofu = state.get("opentofu")
    if tofu:  # optional (`up --no-opentofu`); recorded but broken is a failure
        tofu_ok = opentofu.version_ok(Path(tofu))
        ok &= tofu_ok
        print(f"opentofu: {tofu}{'' if tofu_ok else ' (missing)'}")
    else:
        print("opentofu: not installed (up --no-opentofu)")
    return 0 if ok else 1


def cmd_env(args) -> int:
    state = cache.read_state()
    pairs = {
        "LFM_MOTO_URL": (state.get("moto") or {}).get("url"),
        "LFM_OPENSEARCH_URL": (state.get("opensearch") or {}).get("url"),
        "LFM_TERRAFORM": state.get("terraform"),
        "LFM_TOFU": state.get("opentofu"),
        "LFM_WEBHOOK_URL": (state.get("webhook") or {}).get("url"),
        "LFM_WEBHOOK_CA_FILE": (state.get("webhook") or {}).get("ca_file"),
        "LFM_WEBHOOK_SECRET": (state.get("webhook") or {}).get("secret"),
    }
    missing = [k for k, v in pairs.items() if not v]
    for key, value in pairs.items():
        if value:
            print(f"export {key}={shlex.quote(str(value))}")
    if missing:
        _log(f"not in the state file (run `up`): {', '.join(missing)}")
    return 1 if len(missing) == len(pairs) else 0


def cmd_simulate(args) -> int:
    from .simulator import simulate

    moto_url = args.moto_url or (cache.read_state().get("moto") or {}).get("url")
    if not moto_url:
        _log("no --moto-url and no moto in the state file")
        return 2
    now = None
    if args.now:
        from datetime import datetime

        now = datetime.fromisoformat(args.now.replace("Z", "+00:00")).timestamp()
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    simulate(moto_url, args.accounts, args.functions_per_account, regions, args.period,
             args.periods, args.seed, Path(args.out), now=now, reset=args.reset,
             workers=args.workers, idle_share=args.idle_share, forgers=args.forgers)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lfm_testbed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="install and start moto, the webhook receiver and OpenSearch")
    up.add_argument("--no-opensearch", action="store_true", help="start moto only")
    up.add_argument("--no-opentofu", action="store_true",
                    help="do not build OpenTofu (the e2e tests then run on Terraform only)")
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop recorded services").set_defaults(func=cmd_down)
    sub.add_parser("status", help="show recorded services").set_defaults(func=cmd_status)
    sub.add_parser("env", help="print export lines").set_defaults(func=cmd_env)
    sim = sub.add_parser("simulate", help="build a fleet in moto, write ground truth")
    sim.add_argument("--moto-url", help="default: moto from the state file")
    sim.add_argument("--accounts", type=int, default=2)
    sim.add_argument("--functions-per-account", type=int, default=30)
    sim.add_argument("--regions", default="us-east-1", help="comma-separated")
    sim.add_argument("--period", type=int, default=300, help="seconds, multiple of 60")
    sim.add_argument("--periods", type=int, default=12)
    sim.add_argument("--seed", type=int, default=42)
    sim.add_argument("--out", required=True, help="ground truth JSON file")
    sim.add_argument("--now", help="ISO time to take as now (default: the clock)")
    sim.add_argument("--reset", action="store_true", help="POST /moto-api/reset first")
    sim.add_argument("--workers", type=int, default=4, help="accounts populated in parallel")
    sim.add_argument("--idle-share", type=float, default=0.15,
                     help="share of functions with no activity in the window (0..1; default 0.15)")
    sim.add_argument("--forgers", type=int, default=0,
                     help="extra functions in the first account that print forged REPORT records")
    sim.set_defaults(func=cmd_simulate)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RuntimeError as exc:
        _log(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())

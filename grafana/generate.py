"""Regenerate the provisioned dashboards (grafana/dashboards/*.json) from grafana/generator/.

    python grafana/generate.py          # write the JSON
    python grafana/generate.py --check  # exit 1 if the committed JSON is not what the code builds

Needs the `dev` extra (grafana-foundation-sdk==0.0.21).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generator.render import build_all, stale, write_all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    args = parser.parse_args()
    rendered = build_all()
    if args.check:
        outdated = stale(rendered)
        for name in outdated:
            print(f"grafana/dashboards/{name} is stale: run python grafana/generate.py", file=sys.stderr)
        return 1 if outdated else 0
    for path in write_all(rendered):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

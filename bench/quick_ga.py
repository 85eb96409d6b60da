"""Dev helper: GA per dataset on content-only input for quick iteration."""

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from aiops_copilot.parsing.miner import MinerConfig, TemplateMiner
from logparse_metrics import score

ROOT = Path(__file__).resolve().parents[2] / "shared/data/loghub-2k"
sim = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
only = sys.argv[2:]
tot = 0
res = {}
for d in sorted(p.name for p in ROOT.iterdir() if p.is_dir()):
    if only and d not in only:
        continue
    rows = list(csv.DictReader(open(ROOT / d / f"{d}_2k.log_structured.csv", encoding="utf-8")))
    m = TemplateMiner(MinerConfig(similarity=sim))
    cl = [m.add(r["Content"]) for r in rows]
    groups = [c.resolve().cid for c in cl]
    temps = [c.resolve().template_wildcards for c in cl]
    s = score([r["EventTemplate"] for r in rows], groups, temps)
    res[d] = s
    tot += s.ga
    print(
        f"{d:12s} GA={s.ga:.3f} PA={s.pa:.3f} FGA={s.fga:.3f} groups={s.predicted_groups}/{s.true_groups}"
    )
print(f"mean GA={tot / len(res):.4f}  PA={sum(s.pa for s in res.values()) / len(res):.4f}")

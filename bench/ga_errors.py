"""Dev helper: show which true templates are split or merged for one dataset."""

import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

from aiops_copilot.parsing.miner import MinerConfig, TemplateMiner

ROOT = Path(__file__).resolve().parents[2] / "shared/data/loghub-2k"
d = sys.argv[1]
sim = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
rows = list(csv.DictReader(open(ROOT / d / f"{d}_2k.log_structured.csv", encoding="utf-8")))
m = TemplateMiner(MinerConfig(similarity=sim))
cids = [c.resolve().cid for c in [m.add(r["Content"]) for r in rows]]
tg = defaultdict(set)
pg = defaultdict(set)
for i, (r, c) in enumerate(zip(rows, cids)):
    tg[r["EventTemplate"]].add(i)
    pg[c].add(i)
bad = []
for t, mem in tg.items():
    preds = Counter(cids[i] for i in mem)
    ok = len(preds) == 1 and pg[next(iter(preds))] == mem
    if not ok:
        bad.append((len(mem), t, preds))
bad.sort(reverse=True)
for n, t, preds in bad[: int(sys.argv[3]) if len(sys.argv) > 3 else 15]:
    print(f"--- {n} lines  TRUE: {t[:150]}")
    for c, k in preds.most_common(4):
        others = Counter(rows[i]["EventTemplate"] for i in pg[c])
        print(
            f"   {k:4d} -> {m.get(c).template[:150]}   (cluster has {len(pg[c])}, {len(others)} true tmpls)"
        )

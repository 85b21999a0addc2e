"""Prints the Opacus-computed rows of test/privacy/rdp-accountant.test.ts as JSON.

It calls Opacus's own RDP analysis (opacus/accountants/analysis/rdp.py: compute_rdp and
get_privacy_spent, with RDPAccountant.DEFAULT_ALPHAS); nothing here re-implements it.

  pip install opacus && python3 opacus_reference.py
  # or, without torch: point OPACUS_RDP_PY at a checkout's opacus/accountants/analysis/rdp.py
  # (it only needs numpy and scipy):
  OPACUS_RDP_PY=/path/to/opacus/accountants/analysis/rdp.py python3 opacus_reference.py
"""
import importlib.util
import json
import os

if os.environ.get("OPACUS_RDP_PY"):
    spec = importlib.util.spec_from_file_location("opacus_rdp", os.environ["OPACUS_RDP_PY"])
    rdp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rdp)
else:
    from opacus.accountants.analysis import rdp  # type: ignore

# Opacus's RDPAccountant.DEFAULT_ALPHAS.
ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))

# (q, sigma, steps, delta): sampling rates, noise multipliers and round counts a federated run uses,
# chosen so the optimal order falls on fractional orders, small and large integer orders.
ROWS = [
    (0.1, 1.0, 100, 1e-5),
    (0.1, 1.0, 1000, 1e-5),
    (0.01, 0.8, 1000, 1e-5),
    (0.05, 1.2, 200, 1e-6),
    (0.5, 2.0, 50, 1e-5),
    (0.001, 1.1, 10000, 1e-5),
    (0.2, 0.6, 30, 1e-5),
    (0.3, 0.5, 100, 1e-5),
    (0.01, 3.0, 1000, 1e-5),
    (0.02, 1.0, 500, 1e-5),
    (1.0, 5.0, 10, 1e-5),
]

out = []
for q, sigma, steps, delta in ROWS:
    r = rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=ALPHAS)
    eps, order = rdp.get_privacy_spent(orders=ALPHAS, rdp=r, delta=delta)
    out.append({"q": q, "sigma": sigma, "steps": steps, "delta": delta, "epsilon": float(eps), "order": float(order)})
print(json.dumps(out, indent=1))

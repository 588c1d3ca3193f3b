"""Reference for sbench's Gaussian-process correction (src/learn/gp.cpp): GP regression with
explicit basis functions in Rasmussen and Williams (2006), eqs. 2.41-2.42, written in their own
form (f_bar + R^T beta_bar with R = H* - H K^-1 K*) with NumPy inverses.

usage: gp_reference.py IN.json   (prints the posterior means as JSON)
"""
import json
import sys

import numpy as np


def normalize(a, b):
    both = np.concatenate([a, b])
    mean = both.mean(axis=0)
    rng = np.ptp(both, axis=0)
    rng = np.where(rng > 0, rng, 1.0)
    return (a - mean) / rng, (b - mean) / rng


def main():
    d = json.load(open(sys.argv[1]))
    p = d["params"]
    h_tr, h_te = np.array(d["h_train"]), np.array(d["h_test"])
    y = np.array(d["y_train"])
    yr_tr, yr_te = normalize(np.array(d["year_train"])[:, None], np.array(d["year_test"])[:, None])
    by_loc = "loc_train" in d
    if by_loc:
        loc_tr, loc_te = normalize(np.array(d["loc_train"]), np.array(d["loc_test"]))
    else:
        g_tr, g_te = np.array(d["group_train"]), np.array(d["group_test"])

    def k(i_site, j_site):
        (yi, li, gi), (yj, lj, gj) = i_site, j_site
        arg = -np.sum((yi - yj) ** 2) / (2 * p["r_year"] ** 2)
        if by_loc:
            arg -= np.sum((li - lj) ** 2) / (2 * p["r_loc"] ** 2)
        v = p["sigma"] ** 2 * np.exp(arg)
        return v if by_loc or gi == gj else 0.0

    tr = [(yr_tr[i], loc_tr[i] if by_loc else None, None if by_loc else g_tr[i]) for i in range(len(y))]
    te = [(yr_te[i], loc_te[i] if by_loc else None, None if by_loc else g_te[i]) for i in range(len(h_te))]
    K = np.array([[k(a, b) for b in tr] for a in tr]) + p["sigma_e"] ** 2 * np.eye(len(tr))
    Ks = np.array([[k(a, b) for b in te] for a in tr])
    H = np.vstack([h_tr.T, np.ones(len(tr))])      # (D + 1) x N, Rasmussen's orientation
    Hs = np.vstack([h_te.T, np.ones(len(te))])
    b = np.append(np.array(d["head_w"]), d["head_b"])
    Binv = np.eye(len(b)) / p["sigma_b"] ** 2
    Kinv = np.linalg.inv(K)
    beta = np.linalg.inv(Binv + H @ Kinv @ H.T) @ (H @ Kinv @ y + Binv @ b)
    f_bar = Ks.T @ Kinv @ y
    R = Hs - H @ Kinv @ Ks
    print(json.dumps((f_bar + R.T @ beta).tolist()))


main()

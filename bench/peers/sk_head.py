"""scikit-learn's side of bench/linear-head-vs-sklearn.ts: Pipeline(StandardScaler, LogisticRegression(lbfgs,
multinomial, C=1, max_iter=100)) on the feature files the benchmark wrote (float32 rows, int64 labels).
One untimed fit (warm-up, as graft gets), then one timed fit; prints one JSON line.

The stopping rule is graft's: scikit-learn 1.2's lbfgs minimises the *summed* loss + ||W||^2 / 2C and stops when
the largest gradient component is <= tol, while graft minimises the mean loss + ||W||^2 / 2Cn (the same
minimiser) and stops at 1e-4 on its gradient, n times smaller; so tol = 1e-4 * n here (the default tol=1e-4
would ask n = 8,000 times more precision of scikit-learn than of graft).

Usage: /usr/bin/python3 sk_head.py [--threads 2] <X> <y> <Xte> <yte>
"""
import argparse, json, time, warnings
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

D = 1280


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("paths", nargs=4)
    a = ap.parse_args()
    X, y, Xte, yte = a.paths
    X = np.fromfile(X, dtype=np.float32).reshape(-1, D)
    y = np.fromfile(y, dtype=np.int64)
    Xte = np.fromfile(Xte, dtype=np.float32).reshape(-1, D)
    yte = np.fromfile(yte, dtype=np.int64)

    def make():
        return Pipeline([("scale", StandardScaler()),
                         ("lr", LogisticRegression(solver="lbfgs", multi_class="multinomial", C=1.0,
                                                   max_iter=100, tol=1e-4 * len(y)))])

    with threadpool_limits(limits=a.threads), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", ConvergenceWarning)
        make().fit(X, y)
        clf = make()
        del w[:]
        t0 = time.perf_counter()
        clf.fit(X, y)
        s = time.perf_counter() - t0
        converged = not any(issubclass(x.category, ConvergenceWarning) for x in w)
        acc = float((clf.predict(Xte) == yte).mean())
    print(json.dumps(dict(seconds=s, n_iter=int(clf.named_steps["lr"].n_iter_[0]), converged=converged,
                          test_acc=acc, n_test=int(len(yte)))))


if __name__ == "__main__":
    main()

"""scikit-learn's side of bench/linear-head-vs-sklearn.ts: LogisticRegression(lbfgs, multinomial, C=1,
max_iter=100, tol=1e-4) fit on the 10,000 x 1280 features that ../shared/peers/sk_bench.py wrote.

sk_bench.py keeps its 2,000 test rows in memory only, so they are regenerated here with its exact generator
(and the training rows checked against its file), then written beside it for graft to score on the same rows.

Usage: /usr/bin/python3 sk_head.py [--threads 2] [--reps 1]   (prints one JSON line)
"""
import argparse, json, os, tempfile, time, warnings
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

N, D, K, NTE = 10000, 1280, 10, 2000
OUT = os.environ.get("PEERS_OUT") or os.path.join(tempfile.gettempdir(), "graft-peers")


def regenerate():
    """The same draws, in the same order, as sk_bench.py."""
    rng = np.random.default_rng(0)
    centers = rng.gamma(2.0, 0.25, size=(K, D)).astype(np.float32)
    y = rng.integers(0, K, N)
    X = np.clip(centers[y] + rng.normal(0, 0.6, size=(N, D)).astype(np.float32), 0, 6).astype(np.float32)
    yte = rng.integers(0, K, NTE)
    Xte = np.clip(centers[yte] + rng.normal(0, 0.6, size=(NTE, D)).astype(np.float32), 0, 6).astype(np.float32)
    return X, y, Xte, yte


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    X = np.fromfile(os.path.join(OUT, f"sk_X_{N}x{D}.f32"), dtype=np.float32).reshape(N, D)
    y = np.fromfile(os.path.join(OUT, f"sk_y_{N}.i64"), dtype=np.int64)
    xte_path = os.path.join(OUT, f"sk_Xte_{NTE}x{D}.f32")
    yte_path = os.path.join(OUT, f"sk_yte_{NTE}.i64")
    if not (os.path.exists(xte_path) and os.path.exists(yte_path)):
        X2, y2, Xte, yte = regenerate()
        if not (np.array_equal(X, X2) and np.array_equal(y, y2)):
            raise SystemExit("regenerated training rows differ from sk_bench.py's file")
        Xte.tofile(xte_path)
        yte.astype(np.int64).tofile(yte_path)
    Xte = np.fromfile(xte_path, dtype=np.float32).reshape(NTE, D)
    yte = np.fromfile(yte_path, dtype=np.int64)
    times, conv = [], True
    with threadpool_limits(limits=a.threads):
        for _ in range(a.reps):
            clf = LogisticRegression(solver="lbfgs", multi_class="multinomial", C=1.0, max_iter=100, tol=1e-4)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always", ConvergenceWarning)
                t0 = time.perf_counter()
                clf.fit(X, y)
                times.append(time.perf_counter() - t0)
                conv = not any(issubclass(x.category, ConvergenceWarning) for x in w)
    print(json.dumps(dict(times=times, n_iter=int(clf.n_iter_[0]), converged=conv,
                          train_acc=float((clf.predict(X) == y).mean()),
                          test_acc=float((clf.predict(Xte) == yte).mean()),
                          X=os.path.join(OUT, f"sk_X_{N}x{D}.f32"), y=os.path.join(OUT, f"sk_y_{N}.i64"),
                          Xte=xte_path, yte=yte_path)))


if __name__ == "__main__":
    main()

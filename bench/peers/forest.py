# Random-forest peers for bench/forest.ts: scikit-learn and XGBoost on the same rows, split and limits.
# Reads <prefix>.x.f32 (rows x dims float32), <prefix>.y.i32, and a JSON spec on argv; prints one JSON line.
import json, sys, time
import numpy as np

spec = json.loads(sys.argv[1])
rows, dims, train = spec["rows"], spec["dims"], spec["train"]
x = np.fromfile(spec["prefix"] + ".x.f32", dtype=np.float32).reshape(rows, dims)
y = np.fromfile(spec["prefix"] + ".y.i32", dtype=np.int32)
out = {}

def run(name, make):
    model = make()
    started = time.perf_counter()
    model.fit(x[:train], y[:train])
    fit = time.perf_counter() - started
    started = time.perf_counter()
    p = model.predict_proba(x)[:, 1]
    predict = time.perf_counter() - started
    acc = float(((p[train:] > 0.5) == (y[train:] == 1)).mean())
    out[name] = {"fit": fit, "predict": predict, "accuracy": acc}

try:
    from sklearn.ensemble import RandomForestClassifier
    run("sklearn", lambda: RandomForestClassifier(n_estimators=spec["trees"], max_depth=spec["depth"], min_samples_leaf=spec["leaf"],
                                                  max_features="sqrt", n_jobs=spec["threads"], random_state=0))
except ImportError as e:
    out["sklearn"] = {"skipped": str(e)}
try:
    from xgboost import XGBRFClassifier
    run("xgboost", lambda: XGBRFClassifier(n_estimators=spec["trees"], max_depth=spec["depth"], tree_method="hist", n_jobs=spec["threads"],
                                           colsample_bynode=spec["maxFeatures"] / dims, subsample=0.632, random_state=0))
except ImportError as e:
    out["xgboost"] = {"skipped": str(e)}
print(json.dumps(out))

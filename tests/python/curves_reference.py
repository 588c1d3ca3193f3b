"""ROC and precision-recall points of scikit-learn for a CSV of `score,truth` rows (no header).

Prints one line per ROC point ("roc fpr tpr") with every threshold kept, then one per PR point
("pr recall precision") in order of decreasing threshold, without scikit-learn's closing (0, 1)
point, which is not a threshold.
"""
import sys

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

data = np.loadtxt(sys.argv[1], delimiter=",", ndmin=2)
score, truth = data[:, 0], data[:, 1].astype(int)
fpr, tpr, _ = roc_curve(truth, score, drop_intermediate=False)
for a, b in zip(fpr, tpr):
    print(f"roc {a!r} {b!r}")
precision, recall, _ = precision_recall_curve(truth, score)
for p, r in list(zip(precision, recall))[:-1][::-1]:
    print(f"pr {r!r} {p!r}")

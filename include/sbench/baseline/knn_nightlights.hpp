// SustainBench's night-lights baseline for the DHS tasks (SUSTAINBENCH.md 2.A, from
// `SB:baseline_models/dhs/knn_baseline.ipynb`): the feature is the mean of the NIGHTLIGHTS band over
// the whole tile; two k-nearest-neighbour regressors with uniform weights, one on the DMSP clusters
// (survey year up to 2011) and one on the VIIRS clusters; k from 1 to 20 chosen by the r^2 of the
// pooled (DMSP + VIIRS) validation predictions of models fitted on the train split; the final models
// refitted on train + val. Needs neither GDAL nor LibTorch.
#pragma once

#include <string>
#include <vector>

#include "sbench/core/tasks.hpp"

namespace sbench::store {
class StoreReader;
}

namespace sbench::baseline {

// One regressor's training set, sorted by feature.
struct KnnSet {
  std::vector<double> x, y;
};

struct KnnNightlights {
  std::string task, target;
  int k = 0;
  std::vector<std::pair<int, double>> val_r2;  // (k, pooled validation r^2) for every k tried
  KnnSet dmsp, viirs;                          // train + val, labelled clusters only
};

// Mean of the input's NIGHTLIGHTS band per example (double accumulation, as numpy's
// mean(dtype=float64)) and the example's night-light sensor ("dmsp" / "viirs" from the store's
// nl_sensor, else survey year <= 2011). An InputError when the store has no such band or field, or
// a tile's night lights are not finite (naming the example).
void nightlight_features(const TaskCard& task, const store::StoreReader& s, std::vector<double>& mean,
                         std::vector<bool>& viirs);

// Fits as the notebook: k in [k_min, k_max] (capped at the smaller training set) by pooled val r^2,
// the first k of the best value on ties; then refits on train + val.
KnnNightlights fit_knn_nightlights(const TaskCard& task, const store::StoreReader& s, const std::string& target,
                                   int k_min = 1, int k_max = 20);

// Mean label of the k training clusters nearest to x (|difference of features|; on equal distances
// the smaller feature first; among equal features, training order: the store's order).
double knn_predict(const KnnSet& set, int k, double x);

// JSON of the fitted model (the run's model.json) and back.
std::string to_json(const KnnNightlights& m);
KnnNightlights knn_from_json(const std::string& text, const std::string& where);

}  // namespace sbench::baseline

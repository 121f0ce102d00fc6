"""Reference values for test/tune/parzen.test.ts and test/tune/tpe.test.ts, from Optuna 3.1.

    /usr/bin/python3 test/tune/reference/optuna_parzen.py > /tmp/optuna_parzen.txt

prints, as TypeScript literals to paste into those tests, what Optuna 3.1.0's
univariate TPESampler (its defaults: consider_prior=True, prior_weight=1.0,
consider_magic_clip=True, consider_endpoints=False, weights=default_weights)
computes for hand-picked observation sets: the Parzen estimators' kernels
(means, sigmas, weights), their log_pdf at given values, the categorical
probabilities, numpy's argsort on arrays with ties, and the good/bad split of a
small study; with one fix, #5110's (below). Checked with optuna 3.1.0, numpy 1.24.2 (Debian's python3-optuna).
The tests themselves do not need Python.
"""
import math

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import (
    TPESampler,
    _get_observation_pairs,
    _split_observation_pairs,
    default_gamma,
    default_weights,
)
from optuna.trial import TrialState, create_trial

assert optuna.__version__ == "3.1.0", optuna.__version__

# Optuna 3.1's truncated normal logpdf leaves out the -log(scale) of the change of variable, so each
# kernel of a continuous param scores sigma_i times its density (optuna/optuna#5109, fixed by #5110
# in 3.5). nn follows the paper's density, i.e. 3.1 with that fix, which is applied here the way
# #5110 applied it. (Discrete params, scored by cell masses, never went through this function.)
from optuna.samplers._tpe import _truncnorm

_logpdf_3_1 = _truncnorm.logpdf


def _logpdf_fixed(x, a, b, loc=0, scale=1):
    return _logpdf_3_1(x, a, b, loc, scale) - np.log(scale)


_truncnorm.logpdf = _logpdf_fixed
optuna.logging.set_verbosity(optuna.logging.WARNING)

# TPESampler's own defaults, read back from a sampler rather than restated
PARAMETERS: _ParzenEstimatorParameters = TPESampler()._parzen_estimator_parameters
assert PARAMETERS == (True, 1.0, True, False, default_weights, False), PARAMETERS


def ts(x):
    """A TypeScript literal: floats in the shortest form that reads back exactly."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return "[" + ", ".join(ts(v) for v in x) + "]"
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def estimator(dist, observations):
    return _ParzenEstimator({"x": np.asarray(observations, dtype=float)}, {"x": dist}, PARAMETERS)


def spec_of(dist):
    if isinstance(dist, FloatDistribution):
        spec = f"{{ type: 'float', low: {ts(dist.low)}, high: {ts(dist.high)}, log: {ts(dist.log)}"
        return spec + (f", step: {ts(dist.step)} }}" if dist.step is not None else " }")
    return f"{{ type: 'int', low: {dist.low}, high: {dist.high}, log: {ts(dist.log)}, step: {dist.step} }}"


print("// ---- numpy.argsort (kind 'quicksort'), arrays with ties ----")
print("const ARGSORT: Array<[number[], number[]]> = [")
argsort_cases = [
    [5.0] * 20 + [1.0, 2.0],  # 22 elements: partitioned, equal values reordered
    [3.0, 1.0, 3.0, 2.0, 1.0, 3.0, 2.0, 1.0],  # up to 16: insertion sort, stable
    # 40 elements that make the quicksort give up (McIlroy's adversary): the heapsort part
    [0, 10, 1, 11, 2, 19, 3, 18, 4, 19, 5, 18, 6, 17, 7, 17, 8, 16, 9, 0,
     1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 15, 14, 14, 13, 13, 12, 12, 16, 11],
    list(np.random.RandomState(0).randint(0, 4, size=30).astype(float)),
]
for a in argsort_cases:
    print(f"  [{ts(np.asarray(a, dtype=float))}, {ts(np.argsort(np.asarray(a, dtype=float)))}],")
print("];")
print()

print("// ---- default_weights(n) and the normalized mixture weights (observations, then the prior) ----")
print("const WEIGHTS: Array<[number, number[], number[]]> = [")
for n in [0, 1, 3, 24, 25, 26, 27, 30, 40]:
    pe = estimator(FloatDistribution(0.0, 1.0), np.linspace(0.1, 0.9, n))
    print(f"  [{n}, {ts(default_weights(n))}, {ts(pe._weights)}],")
print("];")
print()

rng = np.random.RandomState(1)
numeric_cases = [
    ("no observations: the prior alone", FloatDistribution(0.0, 10.0), [], [0.0, 2.5, 5.0, 10.0]),
    ("1 observation", FloatDistribution(0.0, 1.0), [0.3], [0.0, 0.3, 0.31, 0.9, 1.0]),
    ("2 observations", FloatDistribution(0.0, 1.0), [0.3, 0.2], [0.0, 0.25, 0.9, 1.0]),
    ("a lone observation near an end", FloatDistribution(0.0, 10.0), [9.5, 1.0, 1.2], [0.5, 1.1, 5.0, 9.9]),
    ("ties, and observations at the prior's mean", FloatDistribution(0.0, 10.0), [5.0, 3.0, 5.0, 5.0, 3.0, 8.0], [3.0, 4.0, 5.0, 8.0]),
    ("a log line", FloatDistribution(1e-4, 1e-1, log=True), [3e-3, 1e-2, 2e-4, 3e-3], [1e-4, 1e-3, 3e-3, 0.05, 0.1]),
    ("a stepped line", FloatDistribution(0.0, 1.0, step=0.1), [0.5, 0.2, 0.5, 0.9, 0.0], [0.0, 0.1, 0.5, 0.6, 1.0]),
    ("an int line", IntDistribution(1, 9), [5, 2, 9, 5], [1, 2, 5, 6, 9]),
    ("a log int line", IntDistribution(16, 1024, log=True), [128, 16, 300, 1024], [16, 17, 128, 500, 1024]),
    ("30 observations: the ramp", FloatDistribution(-1.0, 1.0), list(np.round(rng.uniform(-1, 1, 30), 3)), [-1.0, -0.5, 0.0, 0.3, 1.0]),
    ("40 observations on an int line: the ramp, ties past 16", IntDistribution(0, 8, step=2), list(rng.randint(0, 5, 40) * 2), [0, 2, 4, 6, 8]),
]
print("// ---- numeric estimators: kernels, and log_pdf at values of the param ----")
print("// at: values of the param; logPdf: Optuna's log_pdf there (a stepped line's and an int's: the mass of the value's cell)")
print("const NUMERIC = [")
for name, dist, obs, at in numeric_cases:
    pe = estimator(dist, obs)
    log_pdf = pe.log_pdf({"x": np.asarray(at, dtype=float)})
    print("  {")
    print(f"    name: {name!r},")
    print(f"    spec: {spec_of(dist)} as const,")
    print(f"    observations: {ts(np.asarray(obs, dtype=float))},")
    print(f"    lo: {ts(pe._low['x'])}, hi: {ts(pe._high['x'])}, step: {ts(pe._q['x']) if pe._q['x'] is not None else 'undefined'},")
    print(f"    mus: {ts(pe._mus['x'])},")
    print(f"    sigmas: {ts(pe._sigmas['x'])},")
    print(f"    weights: {ts(pe._weights)},")
    print(f"    at: {ts(np.asarray(at, dtype=float))},")
    print(f"    logPdf: {ts(log_pdf)},")
    print("  },")
print("];")
print()

choices = ["a", "b", "c", "d"]
categorical_cases = [
    ("no observations", []),
    ("1 observation", [2]),
    ("2 observations", [2, 0]),
    ("5 observations", [1, 1, 3, 1, 0]),
    ("30 observations: the ramp", list(rng.randint(0, 4, 30))),
]
print("// ---- categorical estimators over 4 values: the probability of each ----")
print("const CATEGORICAL: Array<[string, number[], number[]]> = [")
for name, obs in categorical_cases:
    pe = _ParzenEstimator({"x": np.asarray(obs, dtype=float)}, {"x": CategoricalDistribution(choices)}, PARAMETERS)
    probs = np.exp(pe.log_pdf({"x": np.arange(len(choices))}))
    print(f"  [{name!r}, {ts(np.asarray(obs, dtype=int))}, {ts(probs)}],")
print("];")
print()

# The ranking and the split of test/tune/tpe.test.ts's hand-made trials, with constant_liar=True (which
# takes RUNNING trials; ours also counts waiting and interrupted ones as liars, so trials 13 and 14 are
# RUNNING here). The ranking is read off the split: the trial that joins the good group when it grows by one.
print("// ---- ranking (best first) and good (below) / bad (above) groups of a study, constant_liar=True: trial numbers ----")
dist = FloatDistribution(0.0, 1.0)
trials = [
    (TrialState.COMPLETE, 0.1, 0.9, {}),
    (TrialState.COMPLETE, 0.2, 0.95, {}),
    (TrialState.COMPLETE, 0.3, float("nan"), {}),
    (TrialState.COMPLETE, 0.4, 0.8, {}),
    (TrialState.COMPLETE, 0.5, 0.97, {}),
    (TrialState.COMPLETE, 0.6, 0.7, {}),
    (TrialState.PRUNED, 0.7, None, {1: 0.1, 2: 0.9, 3: 0.99}),
    (TrialState.PRUNED, 0.8, None, {4: 0.2, 5: 0.4}),
    (TrialState.PRUNED, 0.9, None, {5: 0.2}),
    (TrialState.PRUNED, 0.15, None, {}),
    (TrialState.PRUNED, 0.25, None, {5: float("nan")}),
    (TrialState.FAIL, 0.35, None, {}),
    (TrialState.RUNNING, 0.45, None, {1: 0.999}),
    (TrialState.RUNNING, 0.55, None, {}),
    (TrialState.RUNNING, 0.65, None, {}),
]
for direction in ["maximize", "minimize"]:
    study = optuna.create_study(direction=direction)
    for state, x, value, reports in trials:
        study.add_trial(create_trial(state=state, value=value, params={"x": x}, distributions={"x": dist}, intermediate_values=reports))
    values, scores, _ = _get_observation_pairs(study, ["x"], constant_liar=True)
    n = sum(s < float("inf") for s, _ in scores)
    numbers = [t.number for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING))]
    ranking = []
    for k in range(1, len(scores) + 1):
        below, _ = _split_observation_pairs(scores, k, None)
        ranking += [numbers[i] for i in below if numbers[i] not in ranking]
    below, above = _split_observation_pairs(scores, default_gamma(n), None)
    print(f"const RANK_{direction.upper()} = {ts(ranking)};")
    print(f"const SPLIT_{direction.upper()} = {{ good: {ts([numbers[i] for i in below])}, bad: {ts([numbers[i] for i in above])} }};")

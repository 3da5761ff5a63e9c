"""Grey-level digits three ways: binary, categorical and Gaussian RBMs of the same 8×8 images (and a whitened Gaussian).

scikit-learn's digits have 17 grey levels per pixel (0-16). Each model sees them its own way, with
the same hidden budget (``N_HIDDEN`` units, few enough for exact log-likelihoods):

1. a binary ``RestrictedBoltzmannMachine`` of the thresholded images (``x / 16 > 0.5``),
2. a ``CategoricalRBM``: each pixel a 17-state variable (its grey level),
3. a ``GaussianBernoulliRBM`` of the dequantised images ``(x + u) / 17`` (``u ~ U(0, 1)``),
   standardised, with per-pixel standard deviations learned as ``log σ`` (CD-5),
4. the same model of the same images after ZCA whitening (``learning.whitening.Whitening``),
   trained by exact maximum likelihood (``GaussianExactGradient``); the whitening's log-Jacobian
   keeps its score a density of the same images.

Every score is an exact test log-likelihood in nats per image (``pgm_energy.exact``), beside the
model that treats pixels as independent. The binary model answers a different question (it
forgets the grey levels), so it is compared with its own baseline. The categorical and Gaussian
models can be put on one scale: a density of the dequantised image in (0, 1)^64 is, averaged over
``u``, a lower bound on the log-probability of the discrete image minus ``64 log 17`` (each grey
level is a cell of width 1/17). So ``log p_Gaussian - 64 log 17`` is comparable with the
categorical model's ``log P``.

It prints the table, then checks that every RBM beats its independent baseline and that the
categorical RBM, the one that models grey levels as they are, scores best on the common scale.
A run takes about 6 s on two cores (150 epochs per model; the default recipes, with 20 hidden units,
go further: docs/training.md).
"""

import math
import time

import numpy as np

from pgm_energy import exact
from pgm_energy.datasets import _split_like_scikit_learn, load_digits
from pgm_energy.learning import CategoricalCD, ContrastiveDivergence, GaussianBernoulliCD, GaussianExactGradient
from pgm_energy.learning.whitening import Whitening

N_HIDDEN = 12
SEED = 0
#: L-BFGS iterations of the whitened Gaussian RBM (2**12 hidden states: a few ms each)
WHITENED_ITERATIONS = 400


def split(rows):
    train, test = _split_like_scikit_learn(rows.shape[0], 0.2, 0)
    return rows[train], rows[test]


def independent_binary(train, test) -> float:
    p = (train.sum(axis=0) + 0.5) / (train.shape[0] + 1.0)  # add-1/2 smoothing
    return float(np.mean(test @ np.log(p) + (1 - test) @ np.log1p(-p)))


def independent_categorical(train, test, levels=17) -> float:
    counts = np.stack([np.bincount(column, minlength=levels) for column in train.T]) + 0.5
    log_p = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(np.mean(log_p[np.arange(test.shape[1]), test].sum(axis=1)))


def main():
    grey = load_digits(binarize=False).data.astype(np.int64)  # 0..16
    rows = []

    started = time.perf_counter()
    train, test = split((grey / 16 > 0.5).astype(np.float64))
    binary = ContrastiveDivergence(persistent=True, epochs=150, monitor=None).fit(
        N_HIDDEN, train, rng=SEED, progress=False).model
    rows.append(("binary RBM (thresholded pixels)", exact.log_likelihood(binary, test),
                 independent_binary(train, test), None, time.perf_counter() - started))

    started = time.perf_counter()
    train, test = split(grey)
    categorical = CategoricalCD(epochs=150, cardinalities=[17] * 64, monitor=None).fit(
        N_HIDDEN, train, rng=SEED, progress=False).model
    categorical_ll = exact.log_likelihood(categorical, test)
    rows.append(("categorical RBM (17 grey levels)", categorical_ll, independent_categorical(train, test),
                 categorical_ll, time.perf_counter() - started))

    started = time.perf_counter()
    dequantised = (grey + np.random.default_rng(0).random(grey.shape)) / 17.0
    train, test = split(dequantised)
    mean, sd = train.mean(axis=0), train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    jacobian = -np.log(sd).sum()  # standardised density -> density in (0, 1)^64
    gaussian = GaussianBernoulliCD(epochs=150, monitor=None).fit(
        N_HIDDEN, (train - mean) / sd, rng=SEED, progress=False).model
    gaussian_ll = exact.log_likelihood(gaussian, (test - mean) / sd) + jacobian
    diagonal = float(np.mean(-0.5 * (((test - mean) / sd) ** 2 + np.log(2 * np.pi)).sum(axis=1))) + jacobian
    rows.append(("Gaussian RBM (dequantised, density)", gaussian_ll, diagonal, gaussian_ll - 64 * math.log(17),
                 time.perf_counter() - started))

    # The same density after ZCA whitening, trained by exact maximum likelihood: whitening gives the
    # model a full shared covariance, and its log-Jacobian keeps the log-likelihood exact.
    started = time.perf_counter()
    white = Whitening().fit((train - mean) / sd)
    whitened = GaussianExactGradient(epochs=WHITENED_ITERATIONS, monitor=None).fit(
        N_HIDDEN, white.transform((train - mean) / sd), rng=SEED, progress=False).model
    whitened_ll = exact.log_likelihood(whitened, white.transform((test - mean) / sd)) + white.log_det + jacobian
    rows.append(("Gaussian RBM, ZCA-whitened, exact gradient", whitened_ll, diagonal,
                 whitened_ll - 64 * math.log(17), time.perf_counter() - started))

    print(f"Exact test log-likelihood, nats per image ({N_HIDDEN} hidden units; 1437 training, 360 test images)\n")
    print("| model | RBM | independent pixels | gain | on the discrete 17-level scale | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ll, baseline, discrete, seconds in rows:
        scale = "" if discrete is None else f"{discrete:.2f}"
        print(f"| {name} | {ll:.2f} | {baseline:.2f} | {ll - baseline:+.2f} | {scale} | {seconds:.1f} |")
    print("\nThe discrete scale: log P for the categorical RBM; log p - 64 log 17 for the Gaussian density, "
          "a lower bound on the discrete image's log-probability.")

    for name, ll, baseline, _, _ in rows:
        assert ll > baseline, f"{name} does not beat independent pixels"
    assert rows[1][3] > max(rows[2][3], rows[3][3]), "the categorical RBM should model the grey levels best"


if __name__ == "__main__":
    main()

"""Which digits are threes? An RBM trained on threes only, asked through its free energy.

The seed's experiment, done right (issue 4 §10):

1. Train an RBM on the threes of scikit-learn's 8×8 digits (binarized x/16 > 0.5; the training
   part of the 80/20 split ``train_test_split(random_state=0)``) by contrastive divergence with
   a *growing* number of Gibbs steps: CD-1 for the first third of the epochs, then CD-3, then
   CD-5 (short chains are cheap while the model is still crude; longer ones reduce CD's bias
   once it has learned something). A callback prints the weight norm after every epoch.
2. On the held-out 20%, score every image by ``-F(v)``: the free energy is the log of the
   unnormalised probability the model gives the image, so threes should score high and the
   other digits low. The ROC AUC measures how well the score separates them (1 is perfect,
   0.5 is chance); the baseline is the same score under independent Bernoulli pixels fitted
   to the same threes.
3. Save figures of the learned filters (one 8×8 weight image per hidden unit) and of Gibbs
   samples from the model, with :mod:`pgm_energy.plotting` (matplotlib, the ``plot`` extra;
   without it the example says so and skips them).

The figures go to the folder named by the environment variable ``DIGITS_THREES_OUTPUT``,
else to a fresh temporary folder (printed at the end).

It prints an AUC of about 0.99 against 0.97 for independent pixels (issue target >= 0.98).
"""

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from pgm_energy.datasets import load_digits
from pgm_energy.learning import ContrastiveDivergence
from pgm_energy.plotting import plot_images, save_figure
from pgm_energy.samplers import GibbsSampler

N_HIDDEN = 25
EPOCHS = 60


def growing_k(epoch: int) -> int:
    """CD-1 for the first third of the epochs, CD-3 for the second, CD-5 for the last."""
    if epoch <= EPOCHS // 3:
        return 1
    return 3 if epoch <= 2 * EPOCHS // 3 else 5


def print_weight_norm(epoch, model, history):
    """Callback: the Frobenius norm of the weights and the reconstruction error after each epoch."""
    record = history.last_record()
    print(
        f"epoch {epoch:3d}  CD-{growing_k(epoch)}  |W| = {np.linalg.norm(model.weights):7.3f}  "
        f"reconstruction error {record['reconstruction_error']:.3f}"
    )
    return False  # never asks to stop


def independent_pixel_scores(train: np.ndarray, images: np.ndarray) -> np.ndarray:
    """log p(image) under independent Bernoulli pixels with the training frequencies (clipped away from 0 and 1)."""
    p = np.clip(train.mean(axis=0), 1e-3, 1.0 - 1e-3)
    return images @ np.log(p) + (1.0 - images) @ np.log1p(-p)


def output_folder() -> Path:
    folder = os.environ.get("DIGITS_THREES_OUTPUT")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="digits_threes_"))


def main() -> None:
    split = load_digits(binarize=True, test_size=0.2, rng=0)
    threes = split.train[split.train_target == 3]
    test = split.test.astype(np.float64)
    is_three = split.test_target == 3
    print(f"training on {threes.shape[0]} threes; held out: {is_three.sum()} threes and {(~is_three).sum()} other digits")

    trainer = ContrastiveDivergence(
        k=growing_k, persistent=False, batch_size=10, learning_rate=0.05, weight_decay=1e-3, epochs=EPOCHS,
        averaging=None, monitor=None
    )
    started = time.perf_counter()
    result = trainer.fit(N_HIDDEN, threes, rng=0, callbacks=[print_weight_norm], progress=False)
    seconds = time.perf_counter() - started
    rbm = result.model
    print(f"trained {N_HIDDEN} hidden units for {EPOCHS} epochs in {seconds:.1f} s")

    # A higher -F(v) means the model finds the image more probable, i.e. more like a three.
    rbm_auc = roc_auc_score(is_three, -rbm.free_energy(test))
    pixel_auc = roc_auc_score(is_three, independent_pixel_scores(threes.astype(np.float64), test))
    print(f"ROC AUC, threes vs other digits by free energy: RBM {rbm_auc:.4f}, independent pixels {pixel_auc:.4f}")
    print(f"(issue target >= 0.98: {'met' if rbm_auc >= 0.98 else 'NOT met'})")
    # The claim of the example: the hidden units capture shape that independent pixels cannot.
    assert rbm_auc > pixel_auc

    try:
        import matplotlib  # noqa: F401  (the plot extra)
    except ImportError:
        print('figures skipped: matplotlib is not installed (pip install "pgm-energy[plot]")')
        return
    folder = output_folder()
    filters = plot_images(
        rbm.weights.T, (8, 8), n_columns=5, scale="each", title="Filters learned from threes",
        caption="the weights into each hidden unit as an 8x8 image, each on its own scale", colorbar_label="weight",
    )
    draws = GibbsSampler(burn_in=1000).sample(rbm, 1, n_chains=20, rng=1, keep="last")
    visible = draws.states[:, -1, : rbm.n_visible].astype(np.float64)
    samples = plot_images(
        visible, (8, 8), n_columns=10, scale="none", title="Gibbs samples from the model of threes",
        caption="20 chains, the visible units after 1000 sweeps", colorbar_label="pixel (0 or 1)",
    )
    print(f"learned filters (one 8x8 weight image per hidden unit): {save_figure(filters, folder / 'filters.png')}")
    print(f"Gibbs samples (20 chains after 1000 sweeps): {save_figure(samples, folder / 'samples.png')}")


if __name__ == "__main__":
    main()

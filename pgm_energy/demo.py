"""The main job, ``pgm-energy demo``: train an RBM on digits and measure it honestly.

Sections, each printing the numbers it measured:

1. Data: scikit-learn's 8×8 digits, binarized (x/16 > 0.5), split 80/20 (``random_state=0``),
   and the independent-pixel baseline (the best model without interactions).
2. Training: persistent contrastive divergence with a progress bar.
3. Log-likelihood: exact (the hidden layer is small enough to enumerate) and by annealed
   importance sampling, side by side, on the training and the test images.
4. Figures (matplotlib, the ``plot`` extra; without it one line says so and the rest runs):
   the learned filters and Gibbs samples from the model.
5. A deep belief network trained greedily on the same digits, its variational lower bound on the
   test log-likelihood before and after up-down fine-tuning, beside the RBM's, and a figure of
   the digits it generates.
6. The trained RBM as a pgmpy ``DiscreteMarkovNetwork``: an exact query about hidden causes,
   checked against pgmpy's own ``VariableElimination``.
7. Sampling against the exact answer.

On a machine with two or more cores, a second process compiles the Numba kernels of the later
sections (last first) while the first sections run, so that a first demo on an empty cache
compiles in parallel (:func:`_start_compiling_ahead`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["run_demo", "independent_pixel_log_likelihood"]


def _section(title: str, out) -> None:
    print(f"\n== {title} ==", file=out)


def _render_digit(pixels: np.ndarray) -> list[str]:
    return ["".join("#" if p else "." for p in pixels[row * 8 : row * 8 + 8]) for row in range(8)]


def independent_pixel_log_likelihood(train: np.ndarray, test: np.ndarray) -> float:
    """Mean log-likelihood of ``test`` under independent Bernoulli pixels fitted to ``train``.

    Pixel probabilities are the Laplace-smoothed frequencies ``(count + 1) / (n + 2)`` (a pixel
    never on in training may be on in a test image).

    Parameters
    ----------
    train, test : ndarray of 0/1, shapes (n_train, n_pixels) and (n_test, n_pixels)

    Returns
    -------
    float
        Mean over test rows of ``sum_i log p(x_i)``, in nats.

    Raises
    ------
    StateError
        If ``train`` or ``test`` is not a dense 2-D array of 0/1 values (sparse matrices,
        NaN, complex or other values are refused), or their numbers of columns differ.
    ValidationError
        If either holds no rows or no columns.
    """
    train = _check_images(train, "train")
    test = _check_images(test, "test", train.shape[1])
    probability = (train.sum(axis=0) + 1.0) / (train.shape[0] + 2.0)
    return float(np.mean(test @ np.log(probability) + (1 - test) @ np.log1p(-probability)))


def _check_images(images, name: str, n_columns: int | None = None) -> np.ndarray:
    """``images`` as a non-empty 2-D float64 array of 0/1 (with ``n_columns`` columns when given)."""
    from scipy import sparse

    from ._validation import check_states, describe
    from .exceptions import StateError, ValidationError

    # refused before NumPy sees it: np.asarray wraps a sparse matrix in a 0-d object array,
    # and a sparse operand with damaged indices can crash scipy's products
    if sparse.issparse(images):
        raise StateError(f"{name} must be a dense 2-D array of 0/1 values (use .toarray()), got {describe(images)}")
    try:
        raw = np.asarray(images)
    except (TypeError, ValueError) as error:
        raise StateError(f"{name} must be a 2-D array of 0/1 values, got {describe(images)}") from error
    if raw.ndim != 2:
        raise StateError(f"{name} must be a 2-D array (n_images, n_pixels) of 0/1 values, got {describe(images)}")
    if n_columns is not None and raw.shape[1] != n_columns:
        raise StateError(f"{name} must have {n_columns} columns (as train), got shape {raw.shape}")
    if raw.shape[0] == 0 or raw.shape[1] == 0:
        raise ValidationError(f"{name} must hold at least one image of at least one pixel, got shape {raw.shape}")
    return check_states(raw, raw.shape[1], name)[0]


def _can_draw(out) -> bool:
    """Whether matplotlib (the ``plot`` extra) is installed; one line on ``out`` says so when it is not."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print('figures skipped: matplotlib is not installed (pip install "pgm-energy[plot]")', file=out)
        return False
    return True


def _prepare_output_dir(output_dir, name: str = "output_dir") -> None:
    """Create ``output_dir`` and check that figures can be written there.

    Raises
    ------
    ParameterTypeError
        If it is not a str or path-like.
    ValidationError
        If it is empty, holds a NUL character, is a file, cannot be created, or is not writable.
    """
    from .exceptions import ValidationError
    from .io import _fspath, resolve_output_path

    # type, emptiness and NUL checked first: Path() and mkdir() raise their own errors for them
    folder = Path(_fspath(output_dir, name))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValidationError(f"{name} {str(output_dir)!r} exists and is not a folder") from None
    except OSError as error:
        raise ValidationError(f"{name} {str(output_dir)!r} cannot be created: {error.strerror or error}") from None
    resolve_output_path(folder / "filters.png", name)


def _check_demo_options(n_hidden, epochs, seed, progress, out) -> tuple:
    """:func:`run_demo`'s options checked, with ``progress`` and ``out`` defaults filled in."""
    from ._validation import check_bool, check_int, describe
    from .exact import DEFAULT_MAX_UNITS
    from .exceptions import ParameterTypeError, ValidationError
    from .learning._trainer import MAX_EPOCHS, check_positive_int

    n_hidden = check_int(n_hidden, "n_hidden", minimum=1)
    if n_hidden > DEFAULT_MAX_UNITS:  # the exact log-likelihood after training would refuse it
        raise ValidationError(f"n_hidden must be at most {DEFAULT_MAX_UNITS} (exact log-likelihood), got {n_hidden}")
    epochs = check_positive_int(epochs, "epochs", maximum=MAX_EPOCHS)
    seed = check_int(seed, "seed", minimum=0)
    progress = sys.stderr.isatty() if progress is None else check_bool(progress, "progress")
    if out is None:
        out = sys.stdout
    elif not callable(getattr(out, "write", None)):
        raise ParameterTypeError(f"out must be a text file-like object with a write method, got {describe(out)}")
    return n_hidden, epochs, seed, progress, out


def run_demo(*, n_hidden=20, epochs=1000, seed=0, output_dir="pgm_energy_demo", progress=None, out=None) -> dict:
    """Run the demo and return the printed figures.

    Parameters
    ----------
    n_hidden : int, default 20
        Hidden units of the RBM, 1 to 30 (at most 20 keeps the exact log-likelihood fast).
    epochs : int, 1 to 10**9, default 1000
        Epochs of persistent CD (parameters averaged over the last 10%; the full recipe in
        docs/training.md uses 3000).
    seed : int >= 0, default 0
        Seed of every random draw.
    output_dir : str or path-like or None, default "pgm_energy_demo"
        Folder for the PNG figures (created); None writes no files. Figures need matplotlib
        (the ``plot`` extra): without it the demo prints one line instead and runs the rest.
    progress : bool, optional
        Progress bar during training; default: when stderr is a terminal.
    out : text file-like, optional
        Where to print (default stdout); anything with a ``write`` method.

    Returns
    -------
    dict
        ``baseline``, ``train_log_likelihood``, ``test_log_likelihood``, ``log_z``, ``ais``
        (an AISResult), ``ais_test_log_likelihood``, ``model``, ``figures`` (paths written),
        ``posterior`` and ``sampled_marginals``.
    """
    # every argument is checked before the minutes of training, none after them
    n_hidden, epochs, seed, progress, out = _check_demo_options(n_hidden, epochs, seed, progress, out)
    helper = _start_compiling_ahead(n_hidden)
    try:
        return _run_sections(n_hidden, epochs, seed, output_dir, progress, out)
    finally:
        if helper is not None:  # done, interrupted or failed: the helper has nothing left to do
            helper.kill()
            helper.wait()


def _start_compiling_ahead(n_hidden: int):
    """A process compiling the later sections' kernels into Numba's on-disk cache while this one trains.

    Compiling holds the interpreter lock (a thread would not run beside it), so on a machine
    with two or more cores a second process compiles the kernels of the last sections first,
    while this one compiles and runs them from the first: each kernel is compiled once by
    whichever gets to it first and loaded from the cache by the other, and a cold demo takes
    about two thirds of the time. Nothing is started with one core or an unwritable cache
    (the work would be done twice). Returns the ``subprocess.Popen``, or None.
    """
    import os
    import subprocess

    from ._warmup import cache_location

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cores < 2 or not cache_location().writable:
        return None
    code = f"from pgm_energy.demo import _compile_later_sections; _compile_later_sections({int(n_hidden)})"
    try:
        return subprocess.Popen(_this_package_command(code), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    except OSError:  # no process to spare: the demo compiles everything itself
        return None


def _this_package_command(code: str) -> list[str]:
    """The command running ``code`` in a new interpreter that imports THIS copy of pgm_energy.

    ``python -c`` puts the working directory first on ``sys.path``: run from a source checkout,
    the helper would compile the checkout's package into the checkout's cache, not the running
    one's (no help to the demo, and possibly another version). ``-P`` drops that entry and the
    running package's parent directory is put first instead.
    """
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [sys.executable, "-P", "-c", f"import sys; sys.path.insert(0, {root!r}); {code}"]


def _compile_later_sections(n_hidden: int) -> None:
    """The calls of the demo's sections on small stand-ins of the same shapes and types, last section first.

    Run by :func:`_start_compiling_ahead`'s process: the kernels (and signatures) the demo
    will need, in the opposite order to the demo's, so that the two processes meet in the middle.
    """
    from . import DeepBeliefNetwork, RestrictedBoltzmannMachine, ais, exact
    from .learning import ContrastiveDivergence
    from .samplers import GibbsSampler

    data = (np.random.default_rng(0).random((200, 64)) < 0.3).astype(np.uint8)  # as the binarized digits
    rbm = RestrictedBoltzmannMachine.random(64, n_hidden, scale=0.1, rng=0)
    GibbsSampler(burn_in=1, thin=2).sample(rbm, 2, n_chains=8, rng=0, progress=False)  # 7. sampling
    exact.marginals(rbm)  # 6. hidden causes
    exact.query(rbm, list(rbm.hidden_names[:2]), evidence=dict(zip(rbm.visible_names, data[0].tolist())))
    trainer = ContrastiveDivergence(persistent=False, epochs=1, learning_rate=0.05, weight_decay=1e-4, averaging=None,
                                    monitor=None)  # 5. the deep belief network
    network = DeepBeliefNetwork.fit_greedy(data, [100, 20], trainer=trainer, rng=0, progress=False)
    network.log_likelihood_bound(data[:10], n_samples=2, rng=0)
    network.fine_tune(data, epochs=1, rng=0).sample(2, burn_in=1, rng=0)
    GibbsSampler(burn_in=1, thin=1).sample(rbm, 1, n_chains=20, rng=0, progress=False)  # 4. fantasies
    ais.log_partition_function(rbm, n_runs=100, betas=10, base="data", data=data, rng=0)  # 3. log-likelihood
    exact.log_partition_function(rbm)


def _run_sections(n_hidden, epochs, seed, output_dir, progress, out) -> dict:
    """The sections of :func:`run_demo`, on checked options."""
    from . import ais, exact
    from .datasets import load_digits
    from .learning import ContrastiveDivergence

    figures: dict = {}
    if output_dir is not None:
        _prepare_output_dir(output_dir)

    _section("Data", out)
    split = load_digits(test_size=0.2, rng=0)
    baseline = independent_pixel_log_likelihood(split.train, split.test)
    print(
        f"8x8 digits, binarized (x/16 > 0.5): {len(split.train)} training and {len(split.test)} test images, "
        f"64 pixels each",
        file=out,
    )
    print(f"independent pixels (no interactions): test log-likelihood {baseline:.3f} nats per image", file=out)

    _section("Training: persistent contrastive divergence", out)
    trainer = ContrastiveDivergence(
        k=1, persistent=True, learning_rate=0.01, momentum=0.0, batch_size=20, epochs=epochs, weight_decay=1e-4,
        averaging=0.1,
        monitor=("reconstruction_error",)
    )
    started = time.perf_counter()
    result = trainer.fit(n_hidden, split.train, rng=seed, progress=progress)
    seconds = time.perf_counter() - started
    rbm = result.model
    print(f"{trainer!r}", file=out)
    print(
        f"{epochs} epochs of PCD-1 on {rbm.n_visible} visible x {rbm.n_hidden} hidden units in {seconds:.2f} s; "
        f"reconstruction error {result.history.last('reconstruction_error'):.3f} per image in the last epoch",
        file=out,
    )

    _section("Log-likelihood: exact and annealed importance sampling", out)
    started = time.perf_counter()
    log_z = exact.log_partition_function(rbm)
    train_ll = float(np.mean(-rbm.free_energy(split.train))) - log_z
    test_ll = float(np.mean(-rbm.free_energy(split.test))) - log_z
    exact_seconds = time.perf_counter() - started
    started = time.perf_counter()
    estimate = ais.log_partition_function(rbm, n_runs=100, base="data", data=split.train, rng=seed)
    ais_seconds = time.perf_counter() - started
    ais_test_ll = float(np.mean(-rbm.free_energy(split.test))) - estimate.log_z
    print(
        f"exact log Z = {log_z:.4f} (2^{rbm.n_hidden} hidden states summed, {exact_seconds:.2f} s; "
        "a first run also compiles the Numba kernels)",
        file=out,
    )
    print(
        f"AIS   log Z = {estimate.log_z:.4f} +- {estimate.log_z_std:.4f} (100 runs, 14,500 temperatures, "
        f"{ais_seconds:.2f} s); error {estimate.log_z - log_z:+.4f} nats",
        file=out,
    )
    print("mean log-likelihood per image (nats):", file=out)
    print(f"  training images    exact {train_ll:9.3f}", file=out)
    print(f"  test images        exact {test_ll:9.3f}    AIS {ais_test_ll:9.3f}", file=out)
    print(f"  independent pixels       {baseline:9.3f}    (the RBM gains {test_ll - baseline:.2f} nats per image)", file=out)

    sampler_seed = np.random.default_rng(seed).integers(2**31)
    from .samplers import GibbsSampler

    fantasies = GibbsSampler(burn_in=1000, thin=200).sample(rbm, 5, n_chains=20, rng=sampler_seed)
    drawing = False
    if output_dir is not None:
        _section("Figures", out)
        drawing = _can_draw(out)
    if drawing:
        from .plotting import plot_images, save_figure

        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        filters = plot_images(
            rbm.weights.T, (8, 8), n_columns=10, scale="each",
            title=f"Learned filters: the weights into each of the {rbm.n_hidden} hidden units",
            caption="one 8x8 image per hidden unit (h0, h1, ... row by row), each on its own scale",
            colorbar_label="weight",
        )
        figures["filters"] = save_figure(filters, folder / "filters.png")
        visible_draws = fantasies.states[:, -1, : rbm.n_visible].astype(float)
        samples = plot_images(
            visible_draws, (8, 8), n_columns=10, scale="none",
            title="Gibbs samples from the trained RBM",
            caption="20 chains, the visible units after 1000 sweeps of burn-in",
            colorbar_label="pixel (0 or 1)",
        )
        figures["samples"] = save_figure(samples, folder / "samples.png")
        print(f"learned filters (one 8x8 weight image per hidden unit): {figures['filters']}", file=out)
        print(f"Gibbs samples from the model (20 chains, 1000 sweeps of burn-in): {figures['samples']}", file=out)

    deep_belief, deep_belief_figures = _deep_belief_section(
        split, test_ll, seed, output_dir if drawing else None, progress, out
    )
    figures.update(deep_belief_figures)

    _section("The model as a pgmpy Markov network: hidden causes of a digit", out)
    started = time.perf_counter()
    network = rbm.to_markov_network()
    network.check_model()
    print(
        f"DiscreteMarkovNetwork: {network.number_of_nodes()} variables, {network.number_of_edges()} edges, "
        f"{len(network.get_factors())} factors, check_model() passed ({time.perf_counter() - started:.2f} s)",
        file=out,
    )
    image = split.test[0]
    print(f"a test image (label {split.test_target[0]}):", file=out)
    print("\n".join("  " + line for line in _render_digit(image)), file=out)
    given = rbm.hidden_probabilities(image)
    exact_marginals = exact.marginals(rbm)  # every unit's; the sampling section below compares against it
    prior = exact_marginals.to_numpy()[rbm.n_visible :]  # labelled by unit name; positions here
    strongest = [int(j) for j in np.argsort(-np.abs(given - prior))[:2]]
    hidden = [rbm.hidden_names[j] for j in strongest]
    evidence = dict(zip(rbm.visible_names, image.tolist()))
    posterior = exact.query(rbm, hidden, evidence=evidence)
    print(f"the two hidden units whose belief the image moves most: {', '.join(hidden)}", file=out)
    for name, j in zip(hidden, strongest):
        print(f"  p({name} = 1): {prior[j]:.4f} a priori, {given[j]:.4f} given the image", file=out)
    print(f"  joint p({', '.join(hidden)} | image) over (0,0) (0,1) (1,0) (1,1):", file=out)
    print("    " + "  ".join(f"{p:.4f}" for p in posterior.values.ravel()), file=out)
    from .interop.pgmpy import variable_elimination_query

    started = time.perf_counter()
    reference = variable_elimination_query(network, hidden, evidence=evidence)
    print(
        f"  pgmpy VariableElimination agrees: max |difference| = "
        f"{np.max(np.abs(reference.values - posterior.values)):.2e} ({time.perf_counter() - started:.2f} s)",
        file=out,
    )

    _section("Sampling against the exact answer", out)
    started = time.perf_counter()
    samples = GibbsSampler(burn_in=200, thin=2).sample(rbm, 2000, n_chains=8, rng=seed)
    sampled_marginals = samples.marginals()
    difference = (sampled_marginals - exact_marginals).abs().to_numpy()
    print(
        f"block Gibbs, 8 chains x 2000 draws ({time.perf_counter() - started:.2f} s): marginals of all "
        f"{rbm.n_units} units, |sampled - exact| largest {difference.max():.4f}, mean {difference.mean():.4f}; "
        f"worst split R-hat {np.nanmax(samples.split_r_hat()):.3f} (near 1: the chains agree)",
        file=out,
    )
    return {
        "baseline": baseline,
        "train_log_likelihood": train_ll,
        "test_log_likelihood": test_ll,
        "log_z": log_z,
        "ais": estimate,
        "ais_test_log_likelihood": ais_test_ll,
        "model": rbm,
        "figures": figures,
        "deep_belief": deep_belief,
        "posterior": posterior.values,
        "sampled_marginals": sampled_marginals,
    }


def _deep_belief_section(split, rbm_test_ll, seed, output_dir, progress, out) -> tuple[dict, dict]:
    """Greedy DBN 64-100-20 on the digits; its bound before/after fine-tuning; generated digits.

    Returns ``(summary, paths)``: the bounds and the tuned network, and the figure written
    (none when ``output_dir`` is None).
    """
    from . import DeepBeliefNetwork
    from ._math import sigmoid
    from .learning import ContrastiveDivergence

    _section("A deep belief network: greedy layers, then up-down fine-tuning", out)
    seeds = np.random.default_rng(seed).integers(2**31, size=4)
    # CD-1 for the greedy layers, as Hinton, Osindero & Teh (2006)
    trainer = ContrastiveDivergence(persistent=False, epochs=30, learning_rate=0.05, weight_decay=1e-4, averaging=None,
                                    monitor=None)
    started = time.perf_counter()
    network = DeepBeliefNetwork.fit_greedy(split.train, [100, 20], trainer=trainer, rng=seeds[0], progress=progress)
    greedy_seconds = time.perf_counter() - started
    greedy = network.log_likelihood_bound(split.test, n_samples=10, rng=seeds[1])
    started = time.perf_counter()
    tuned = network.fine_tune(split.train, epochs=10, rng=seeds[2])
    tune_seconds = time.perf_counter() - started
    tuned_bound = tuned.log_likelihood_bound(split.test, n_samples=10, rng=seeds[1])
    print(
        f"64 visible -> 100 -> 20 hidden units: two RBMs trained greedily by CD-1, 30 epochs each "
        f"({greedy_seconds:.2f} s); the top RBM (100 x 20) is undirected, the bottom layer a sigmoid belief net",
        file=out,
    )
    print("variational lower bound on the test log-likelihood (nats per image; log Z of the top RBM exact):", file=out)
    print(f"  after greedy training            {greedy.mean:9.3f} +- {greedy.standard_error:.3f}", file=out)
    print(f"  after 10 epochs of up-down tuning {tuned_bound.mean:9.3f} +- {tuned_bound.standard_error:.3f}  ({tune_seconds:.2f} s)", file=out)
    print(f"  the single RBM above (exact)      {rbm_test_ll:9.3f}", file=out)
    summary = {"greedy_bound": greedy, "tuned_bound": tuned_bound, "model": tuned}
    paths = {}
    if output_dir is not None:
        from .plotting import plot_images, save_figure

        draws = tuned.sample(40, burn_in=1000, rng=seeds[3])
        first_hidden = draws.states[0][:, 64:164].astype(float)
        # show each draw's pixel probabilities given its first hidden layer: smoother than one binary sample
        pixels = sigmoid(first_hidden @ tuned.weights[0].T + tuned.biases[0])
        figure = plot_images(
            pixels, (8, 8), n_columns=10, scale="none",
            title="Digits generated by the fine-tuned deep belief network",
            caption="40 draws: top-RBM Gibbs, then one pass down; shown as p(pixel = 1 | first hidden layer)",
            colorbar_label="p(pixel = 1)",
        )
        path = save_figure(figure, Path(output_dir) / "deep_belief_samples.png")
        paths["deep_belief_samples"] = path
        print(f"digits generated by the tuned network (top-RBM Gibbs, then down): {path}", file=out)
    return summary, paths

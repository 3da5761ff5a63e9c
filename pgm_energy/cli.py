"""The ``pgm-energy`` command line."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

__all__ = ["main", "run_demo"]


def _section(title: str, out) -> None:
    print(f"\n== {title} ==", file=out)


def _render_digit(pixels: np.ndarray) -> list[str]:
    return ["".join("#" if p else "." for p in pixels[row * 8 : row * 8 + 8]) for row in range(8)]


def run_demo(*, n_hidden: int = 25, seed: int = 0, n_digits: int = 4, out=None) -> dict:
    """Run the demo: the seed's RBM over 8×8 digits, converted to pgmpy and queried exactly.

    Parameters
    ----------
    n_hidden : int
        Hidden units of the RBM (the seed uses 25).
    seed : int
        Seed of the random weights.
    n_digits : int
        How many real digits to score.
    out : file-like, optional
        Where to print (default stdout).

    Returns
    -------
    dict
        The printed figures (``log_z``, ``free_energies``, ``log_probabilities``, ``posterior``).
    """
    from . import RestrictedBoltzmannMachine, exact
    from .datasets import load_digits

    out = sys.stdout if out is None else out
    digits = load_digits()
    # Visible biases from the data's pixel log-odds (Hinton's practical guide), weights N(0, 0.1^2).
    frequency = np.clip(digits.data.mean(axis=0), 0.01, 0.99)
    base = RestrictedBoltzmannMachine.random(64, n_hidden, scale=0.1, rng=seed)
    rbm = RestrictedBoltzmannMachine(base.weights, np.log(frequency / (1 - frequency)), base.hidden_bias)

    _section("Model", out)
    print(
        f"RBM over 8x8 digit images: {rbm.n_visible} visible x {rbm.n_hidden} hidden units, "
        f"weights N(0, 0.1^2) with seed {seed}, visible biases = pixel log-odds of the data",
        file=out,
    )
    started = time.perf_counter()
    network = rbm.to_markov_network()
    network.check_model()
    print(
        f"as a pgmpy DiscreteMarkovNetwork: {network.number_of_nodes()} variables, "
        f"{network.number_of_edges()} edges, {len(network.get_factors())} factors, "
        f"check_model() passed ({time.perf_counter() - started:.2f} s)",
        file=out,
    )

    _section("Exact partition function", out)
    started = time.perf_counter()
    exact.log_partition_function(RestrictedBoltzmannMachine.random(3, 2, rng=0))  # compile or load the kernel
    print(f"Numba kernel ready in {time.perf_counter() - started:.2f} s (compiled on the first run, then cached)", file=out)
    started = time.perf_counter()
    log_z = exact.log_partition_function(rbm)
    print(
        f"log Z = {log_z:.6f}  (2^{min(rbm.n_hidden, rbm.n_visible)} states enumerated, "
        f"the other layer summed in closed form; {time.perf_counter() - started:.2f} s)",
        file=out,
    )

    _section("Free energy of real digits", out)
    samples = digits.data[:n_digits]
    free_energies = rbm.free_energy(samples)
    log_probabilities = -free_energies - log_z
    noise = np.random.default_rng(seed).integers(0, 2, size=(1, 64))
    noise_free_energy = float(rbm.free_energy(noise)[0])
    print("digit   F(v)        log p(v) = -F(v) - log Z", file=out)
    for label, free, log_p in zip(digits.target[:n_digits], free_energies, log_probabilities):
        print(f"  {label}    {free:10.4f}  {log_p:10.4f}", file=out)
    print(f"noise   {noise_free_energy:10.4f}  {-noise_free_energy - log_z:10.4f}   (random pixels)", file=out)

    _section("Hidden causes of a digit (exact query)", out)
    image = samples[0]
    print("\n".join("  " + line for line in _render_digit(image)), file=out)
    evidence = dict(zip(rbm.visible_names, image.tolist()))
    hidden = list(rbm.hidden_names[:2])
    posterior = exact.query(rbm, hidden, evidence=evidence)
    print(f"p({', '.join(hidden)} | the {digits.target[0]} above), states (0,0) (0,1) (1,0) (1,1):", file=out)
    print("  " + "  ".join(f"{p:.4f}" for p in posterior.values.ravel()), file=out)
    from .interop.pgmpy import variable_elimination_query

    started = time.perf_counter()
    reference = variable_elimination_query(network, hidden, evidence=evidence)
    print(
        f"pgmpy VariableElimination on the same network agrees: max |difference| = "
        f"{np.max(np.abs(reference.values - posterior.values)):.2e} ({time.perf_counter() - started:.2f} s)",
        file=out,
    )
    prior = exact.query(rbm, hidden)
    print("the same without evidence (prior):", file=out)
    print("  " + "  ".join(f"{p:.4f}" for p in prior.values.ravel()), file=out)
    strongest = int(np.argmax(np.abs(rbm.hidden_probabilities(image) - exact.marginals(rbm)[rbm.n_visible :])))
    print(
        f"hidden unit whose belief the digit moves most: {rbm.hidden_names[strongest]} "
        f"(p = {exact.marginals(rbm)[rbm.n_visible + strongest]:.4f} a priori, "
        f"{rbm.hidden_probabilities(image)[strongest]:.4f} given the digit)",
        file=out,
    )

    _section("Sampling (Gibbs) against the exact answer", out)
    from .samplers import GibbsSampler, SimulatedAnnealingSampler

    started = time.perf_counter()
    samples = GibbsSampler(burn_in=200, thin=2).sample(rbm, 2000, n_chains=8, rng=seed)
    exact_marginals = exact.marginals(rbm)
    sampled_marginals = samples.marginals()
    errors = samples.marginal_standard_errors()
    worst = float(np.max(np.abs(sampled_marginals - exact_marginals) / np.maximum(errors, 1e-12)))
    print(
        f"block Gibbs, 8 chains x 2000 draws ({time.perf_counter() - started:.2f} s, compilation included on a "
        f"first run): largest |sampled - exact| "
        f"marginal = {np.max(np.abs(sampled_marginals - exact_marginals)):.4f} "
        f"({worst:.1f} Monte Carlo standard errors); worst split R-hat {np.nanmax(samples.split_r_hat()):.3f}",
        file=out,
    )
    annealed = SimulatedAnnealingSampler(n_sweeps=300).sample(rbm, 8, rng=seed)
    _, lowest_energy = annealed.lowest()
    print(f"simulated annealing, 8 reads x 300 sweeps: lowest energy found {lowest_energy[0]:.4f}", file=out)
    return {
        "sampled_marginals": sampled_marginals,
        "log_z": log_z,
        "free_energies": free_energies,
        "log_probabilities": log_probabilities,
        "posterior": posterior.values,
    }


def _parse_evidence(text: str | None) -> dict[str, int]:
    """'a=1,b=0' -> {'a': 1, 'b': 0}."""
    evidence: dict[str, int] = {}
    if not text:
        return evidence
    for item in text.split(","):
        name, separator, value = item.partition("=")
        if not separator or value.strip() not in ("0", "1") or not name.strip():
            raise ValueError(f"--evidence items must look like name=0 or name=1, got {item!r}")
        evidence[name.strip()] = int(value)
    return evidence


def run_sample(arguments, out=None) -> int:
    """``pgm-energy sample``: Gibbs samples of a saved model, written as CSV or .npy."""
    from pathlib import Path

    from .io import load
    from .samplers import GibbsSampler

    out = sys.stdout if out is None else out
    model = load(arguments.model)
    sampler = GibbsSampler(burn_in=arguments.burn_in, thin=arguments.thin, scan=arguments.scan)
    samples = sampler.sample(
        model,
        arguments.n,
        n_chains=arguments.chains,
        evidence=_parse_evidence(arguments.evidence),
        temperature=arguments.temperature,
        rng=arguments.seed,
        progress=arguments.progress,
    )
    destination = arguments.output
    if destination is None or destination == "-":
        samples.to_pandas().to_csv(out, index=False)
        return 0
    path = Path(destination)
    if path.suffix == ".npy":
        np.save(path, samples.states)
    elif path.suffix == ".csv":
        samples.to_pandas().to_csv(path, index=False)
    else:
        raise ValueError(f"--output must end in .csv or .npy, got {destination!r}")
    print(
        f"wrote {samples.n_chains} chains x {samples.n_draws} draws x {samples.n_units} units to {path} "
        f"({samples.info['timings']['sampling']:.2f} s of sampling)",
        file=sys.stderr,
    )
    return 0


def main(argv=None) -> int:
    """Entry point of the ``pgm-energy`` console script."""
    parser = argparse.ArgumentParser(prog="pgm-energy", description="Energy-based models as pgmpy graphical models.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="the seed's RBM over 8x8 digits: pgmpy conversion, exact log Z, free energies, a hidden-cause query")
    demo.add_argument("--hidden", type=int, default=25, help="hidden units (default 25)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the random weights (default 0)")
    demo.add_argument("--digits", type=int, default=4, help="digits to score (default 4)")
    sample = commands.add_parser("sample", help="Gibbs samples of a model saved with model.save(): CSV (default, to stdout) or .npy")
    sample.add_argument("model", help="a .npz model file")
    sample.add_argument("-n", type=int, required=True, help="draws per chain")
    sample.add_argument("--chains", type=int, default=1, help="independent chains (default 1)")
    sample.add_argument("--burn-in", type=int, default=1000, help="sweeps discarded first (default 1000)")
    sample.add_argument("--thin", type=int, default=1, help="sweeps between draws (default 1)")
    sample.add_argument("--scan", default="sequential", choices=["sequential", "random", "chromatic"])
    sample.add_argument("--temperature", type=float, default=None, help="default: the model's")
    sample.add_argument("--evidence", default=None, help="clamped units, e.g. v0=1,h3=0")
    sample.add_argument("--seed", type=int, default=None)
    sample.add_argument("-o", "--output", default=None, help="file ending in .csv or .npy (default: CSV on stdout)")
    sample.add_argument("--progress", action=argparse.BooleanOptionalAction, default=sys.stderr.isatty(),
                        help="progress bar on stderr (default: when stderr is a terminal)")
    arguments = parser.parse_args(argv)
    if arguments.command == "sample":
        from .exceptions import PGMEnergyError

        try:
            return run_sample(arguments)
        except (PGMEnergyError, ValueError, TypeError, FileNotFoundError) as error:
            parser.exit(2, f"pgm-energy sample: error: {error}\n")
    if arguments.command == "demo":
        if not 1 <= arguments.hidden <= 30:
            parser.error(f"--hidden must be between 1 and 30 for exact inference, got {arguments.hidden}")
        if not 1 <= arguments.digits <= 1797:
            parser.error(f"--digits must be between 1 and 1797, got {arguments.digits}")
        run_demo(n_hidden=arguments.hidden, seed=arguments.seed, n_digits=arguments.digits)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
